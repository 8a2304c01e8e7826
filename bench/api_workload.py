"""The mixed workload of ``make bench-api``: what each kind of user really does, as request builders.

A ``Dataset`` is what the seeding left (ids, exam numbers, who may log in); ``build`` turns one of
the ``MIX`` entries into a ``Call`` (method, path, body, the login whose token it carries and the
name it is reported under). The builders are plain functions, so the load generator (bench/load_gen.py)
and the tests use the same ones. Writes draw from pools that each value leaves once (an invitation
per uninvited graduate, a review per agreement waiting for its department), so a write never fails
for a reason the platform is right about; an empty pool falls back to a read.

The mix (weights, per 100 requests): reads 88, writes 12.

    read   图6 在线签约 list, province: school + status filter, page 1..5         16
    read   图6 在线签约 list, school: text search or status, sorted              8
    read   图6 在线签约 list, department                                         5
    read   图7 档案 list, province/school: filters and paging                    10
    read   agreement detail (查看), school or province                           10
    read   the graduate's own agreements                                         8
    read   the graduate's archive registration                                  5
    read   stats, province view (图8)                                            8
    read   stats, school view                                                   4
    read   whoami (accounts /me, signing /whoami)                               8 + 6
    write  employer invitation                                                  4
    write  department review (approve)                                          2
    write  graduate's archive draft                                             6
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

TERMS = {"position_category": "10", "job_title": "软件工程师", "work_region": "440106", "work_place": "广州市天河区",
         "monthly_salary": 12000, "contract_months": 36, "probation_months": 3, "contact_person": "王经理",
         "contact_phone": "13800000000", "archive_destination": "广州市人才中心", "hukou_destination": "广州市天河区",
         "remarks": "五险一金"}
ARCHIVE_DRAFT = {"transfer_type": "employer", "receiving_unit": "广州示例信息科技有限公司",
                 "address": "广州市天河区某路1号", "postcode": "510000", "recipient": "王经理", "phone": "13800000000"}
SIGNING_STATUSES = ("invited", "department_review", "school_review", "approved", "declined")
ARCHIVE_STATUSES = ("none", "draft", "department_review", "approved")


@dataclass
class Dataset:
    """What the seeding made. ``graduates``: (graduate id, login) of activated graduates;
    ``uninvited``: (exam number, name) nobody invited yet; ``awaiting_department``: agreement ids
    waiting for the department's review; ``agreements``: ids any school user may read."""

    school: str
    province_login: str
    school_login: str
    department_login: str
    employer_login: str
    graduates: list[tuple[str, str]]
    agreements: list[str]
    uninvited: list[tuple[str, str]] = field(default_factory=list)
    awaiting_department: list[str] = field(default_factory=list)
    # Graduates whose archive registration may still be saved as a draft (not under review).
    drafting: list[tuple[str, str]] = field(default_factory=list)

    def logins(self) -> list[str]:
        return [self.province_login, self.school_login, self.department_login, self.employer_login,
                *(login for _, login in self.graduates)]


@dataclass(frozen=True)
class Call:
    name: str  # what the report groups it under
    method: str
    path: str
    login: str | None
    json: dict[str, Any] | None = None
    expect: tuple[int, ...] = (200,)

    @property
    def url_path(self) -> str:
        """The path as it goes on the wire: non-ASCII query values (a Chinese name searched for)
        percent-encoded, as a browser sends them."""
        return quote(self.path, safe="/?&=%:,")


Builder = Callable[[Dataset, random.Random], Call | None]


def _page(rng: random.Random) -> int:
    # Most people look at the first pages.
    return rng.choice((1, 1, 1, 2, 2, 3, 4, 5))


def online_list_province(d: Dataset, rng: random.Random) -> Call:
    status = rng.choice(SIGNING_STATUSES)
    return Call("图6 list (province)", "GET",
                f"/api/signing/lists/online-signing?school={d.school}&status={status}&page={_page(rng)}&page_size=20",
                d.province_login)


def online_list_school(d: Dataset, rng: random.Random) -> Call:
    query = rng.choice((f"q=学生{rng.randrange(1000)}", f"status={rng.choice(SIGNING_STATUSES)}",
                        "sort=name&order=asc"))
    return Call("图6 list (school)", "GET", f"/api/signing/lists/online-signing?{query}&page={_page(rng)}&page_size=20",
                d.school_login)


def online_list_department(d: Dataset, rng: random.Random) -> Call:
    return Call("图6 list (department)", "GET", f"/api/signing/lists/online-signing?page={_page(rng)}&page_size=20",
                d.department_login)


def archive_list(d: Dataset, rng: random.Random) -> Call:
    status = rng.choice(ARCHIVE_STATUSES)
    login, scope = rng.choice(((d.province_login, f"school={d.school}&"), (d.school_login, "")))
    return Call("图7 archive list", "GET",
                f"/api/records/archive/registrations?{scope}status={status}&education_level=31"
                f"&page={_page(rng)}&page_size=20", login)


def agreement_detail(d: Dataset, rng: random.Random) -> Call | None:
    if not d.agreements:
        return None
    login = rng.choice((d.school_login, d.province_login))
    return Call("agreement detail", "GET", f"/api/signing/agreements/{rng.choice(d.agreements)}", login)


def own_agreements(d: Dataset, rng: random.Random) -> Call | None:
    if not d.graduates:
        return None
    _, login = rng.choice(d.graduates)
    return Call("graduate's agreements", "GET", "/api/signing/agreements", login)


def own_archive(d: Dataset, rng: random.Random) -> Call | None:
    if not d.graduates:
        return None
    graduate, login = rng.choice(d.graduates)
    return Call("graduate's archive", "GET", f"/api/records/graduates/{graduate}/archive", login)


def stats_province(d: Dataset, rng: random.Random) -> Call:
    return Call("stats province", "GET", "/api/stats/province", d.province_login)


def stats_school(d: Dataset, rng: random.Random) -> Call:
    return Call("stats school", "GET", f"/api/stats/schools/{d.school}", rng.choice((d.school_login, d.province_login)))


def whoami_accounts(d: Dataset, rng: random.Random) -> Call:
    return Call("accounts /me", "GET", "/api/accounts/me", rng.choice(d.logins()))


def whoami_signing(d: Dataset, rng: random.Random) -> Call:
    return Call("signing whoami", "GET", "/api/signing/whoami", rng.choice(d.logins()))


def invitation(d: Dataset, rng: random.Random) -> Call | None:
    if not d.uninvited:
        return None
    exam_number, name = d.uninvited.pop()
    return Call("invitation (write)", "POST", "/api/signing/invitations", d.employer_login,
                {"exam_number": exam_number, "name": name, "terms": TERMS}, expect=(201,))


def department_review(d: Dataset, rng: random.Random) -> Call | None:
    if not d.awaiting_department:
        return None
    agreement = d.awaiting_department.pop()
    return Call("department review (write)", "POST", f"/api/signing/agreements/{agreement}/reviews",
                d.department_login, {"decision": "approve"})


def archive_draft(d: Dataset, rng: random.Random) -> Call | None:
    if not d.drafting:
        return None
    graduate, login = rng.choice(d.drafting)
    return Call("archive draft (write)", "PUT", f"/api/records/graduates/{graduate}/archive/draft", login,
                {**ARCHIVE_DRAFT, "recipient": rng.choice(("王经理", "李经理", "张经理"))})


MIX: tuple[tuple[Builder, int], ...] = (
    (online_list_province, 16), (online_list_school, 8), (online_list_department, 5), (archive_list, 10),
    (agreement_detail, 10), (own_agreements, 8), (own_archive, 5), (stats_province, 8), (stats_school, 4),
    (whoami_accounts, 8), (whoami_signing, 6), (invitation, 4), (department_review, 2), (archive_draft, 6),
)
FALLBACK: Builder = stats_school


def next_call(d: Dataset, rng: random.Random) -> Call:
    """One request drawn from the mix; a write whose pool ran dry becomes a read."""
    builders, weights = zip(*MIX, strict=True)
    builder = rng.choices(builders, weights=weights)[0]
    return builder(d, rng) or FALLBACK(d, rng)  # type: ignore[return-value]


def dataset_to_json(d: Dataset) -> dict[str, Any]:
    return {k: getattr(d, k) for k in d.__dataclass_fields__}


def dataset_from_json(data: dict[str, Any]) -> Dataset:
    pairs = ("graduates", "uninvited", "drafting")
    return Dataset(**{**data, **{key: [tuple(item) for item in data.get(key, [])] for key in pairs}})
