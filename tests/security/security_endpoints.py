"""Every endpoint of every service, who may call it and what anyone else gets: the table the
authorization matrix runs (one row per method and rule of each app's url_map; a rule without a row
fails the coverage check, so a new endpoint cannot ship without deciding who may call it).

A caller in ``allow`` passes authorization: any answer but 401, 403, 404 or a 5xx (a 409 or a 422
about the state or the body is the service doing its job after letting the caller in). A caller in
``hidden`` gets 404: the object is outside its scope and its existence is not leaked. Every other
caller gets 403. The objects named in the paths are the scripted run's (security_scenario.py): the
agreement, termination and hukou/archive registrations of ``graduate`` (CS department of 10558,
with ``employer``), the destination registration of ``other_graduate`` (also CS), school 10558,
province 44."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from security_scenario import TERMS, UNIT

from quxiang.common.times import latest_deadline
from quxiang.common.validators import make_credit_code

# Path ids bounded by their columns (a larger one is a 404, not the database's overflow).
INT4, INT8 = "int(max=2147483647)", "int(max=9223372036854775807)"
ALL = frozenset({"admin", "province", "school_w", "school_r", "school_n", "department_w", "department_r", "graduate",
                 "employer", "other_province", "other_school", "other_department", "other_graduate",
                 "other_employer"})
OUTSIDERS = frozenset({"other_province", "other_school", "other_department", "other_graduate", "other_employer"})
SCHOOL_READ = frozenset({"school_w", "school_r"})
DEPT_READ = frozenset({"department_w", "department_r"})
# Readers of school 10558's data in a module they can read (and the province above it).
READERS = SCHOOL_READ | DEPT_READ | {"province"}
WRITERS = frozenset({"school_w", "department_w"})
# The same roles in other scopes: their own lists (empty of 10558's objects) are theirs to read.
OTHER_READERS = frozenset({"other_province", "other_school", "other_department"})
OTHER_OWNERS = frozenset({"other_province", "other_school", "other_department"})


@dataclass(frozen=True)
class Row:
    allow: frozenset[str]
    hidden: frozenset[str] = frozenset()
    json: Any = None
    files: Callable[[], dict[str, Any]] | None = None
    note: str = ""
    expected: dict[str, int] = field(default_factory=dict)  # callers with another definite answer
    objects: dict[str, str] = field(default_factory=dict)  # placeholder -> key in ids, instead of the default

    def answer(self, caller: str) -> str | int:
        if caller in self.expected:
            return self.expected[caller]
        if caller in self.allow:
            return "ok"
        return 404 if caller in self.hidden else 403


def row(allow: Iterable[str], hidden: Iterable[str] = (), **kwargs: Any) -> Row:
    return Row(frozenset(allow), frozenset(hidden), **kwargs)


def pdf() -> dict[str, Any]:
    return {"file": (io.BytesIO(b"%PDF-1.4\n%scan\n%%EOF"), "scan.pdf")}


def roster() -> dict[str, Any]:
    return {"file": (io.BytesIO("考生号,学号\n".encode()), "roster.csv")}


NONE = {"employment": "none", "archive": "none", "hukou": "none"}
# Callers whose token names no account (accounts answers for its own users only).
SYNTHETIC = frozenset({"school_r", "school_n", "department_r", "other_province"})
DECISION = {"decision": "reject", "reason": "安全测试"}
SETTINGS = {"department_review": False, "deadline": latest_deadline().isoformat()}
TRANSFER = {"transfer_type": "origin", "address": "广州市越秀区某街3号", "receiving_unit": "广州市人才中心",
            "postcode": "510000", "recipient": "张老师", "phone": "020-12345678"}
OBJECT_READERS = READERS | {"graduate"}  # the graduate's own objects, as its school sees them

ACCOUNTS = {
    ("GET", "/.well-known/jwks.json"): row(ALL),
    ("POST", "/auth/login"): row(ALL, json={}),
    # a token of no account: 401 unknown_user (the other services trust the token until it expires)
    ("POST", "/auth/logout"): row(ALL, expected=dict.fromkeys(SYNTHETIC, 401)),
    ("POST", "/auth/password"): row(ALL, json={"current_password": "x", "new_password": "y"}),
    ("POST", "/auth/refresh"): row(ALL, json={"refresh_token": "not-a-token"}, expected=dict.fromkeys(ALL, 401)),
    ("GET", "/department-accounts"): row({"admin", "school_w", "school_r", "school_n", "other_school"}),
    ("POST", "/department-accounts"): row({"admin", "school_w", "school_r", "school_n"},
                                          json=lambda ids: {"username": "sec-dept-x", "display_name": "x",
                                                            "password": "Secure-2026-pass",
                                                            "department_id": ids["department"], "permissions": NONE}),
    ("GET", "/department-accounts/<user_id>"): row({"admin", "school_w", "school_r", "school_n"},
                                                   hidden={"other_school"}),
    ("POST", "/department-accounts/<user_id>/disable"): row({"admin", "school_w", "school_r", "school_n"},
                                                            hidden={"other_school"}),
    ("POST", "/department-accounts/<user_id>/enable"): row({"admin", "school_w", "school_r", "school_n"},
                                                           hidden={"other_school"}),
    ("PUT", "/department-accounts/<user_id>"): row({"admin", "school_w", "school_r", "school_n"},
                                                   hidden={"other_school"}, json={"display_name": "安全测试"}),
    ("POST", "/department-accounts/<user_id>/password"): row({"admin", "school_w", "school_r", "school_n"},
                                                             hidden={"other_school"},
                                                             json={"new_password": "Secure-2026-reset"}),
    ("PUT", "/department-accounts/<user_id>/permissions"): row({"admin", "school_w", "school_r", "school_n"},
                                                               hidden={"other_school"}, json=NONE),
    ("POST", "/employers"): row(ALL, json={}),
    ("GET", "/employers/me"): row({"employer", "other_employer"}),
    ("PUT", "/employers/me"): row({"employer", "other_employer"}, json={}),
    ("POST", "/graduates/activate"): row(ALL, json={"exam_number": "1", "activation_code": "x", "password": "y"}),
    ("GET", "/me"): row(ALL, expected=dict.fromkeys(SYNTHETIC, 404)),
    ("GET", "/province-accounts"): row({"admin"}),
    ("POST", "/province-accounts"): row({"admin"}, json={"username": "sec-prov", "display_name": "x",
                                                         "password": "Secure-2026-pass", "province": "44"}),
    ("POST", "/province-accounts/<user_id>/disable"): row({"admin"}),
    ("GET", "/provinces/<province>/modules"): row({"admin", "province"} | SCHOOL_READ | DEPT_READ |
                                                  {"school_n", "other_school", "other_department"},
                                                  hidden={"other_province"}),
    ("GET", "/provinces/<province>/modules/<module>"): row({"admin", "province"} | SCHOOL_READ | DEPT_READ |
                                                           {"school_n", "other_school", "other_department"},
                                                           hidden={"other_province"}),
    ("PUT", "/provinces/<province>/modules/<module>"): row({"admin", "province"},
                                                           json={"enabled": True}),
    ("PATCH", "/provinces/<province>/modules/<module>"): row({"admin", "province"},
                                                             json={"enabled": True}),
    ("DELETE", "/provinces/<province>/modules/<module>"): row({"admin", "province"}),
    ("POST", "/provinces/<province>/modules/<module>/disable"): row({"admin", "province"}),
    ("POST", "/provinces/<province>/modules/<module>/enable"): row({"admin", "province"}),
    ("GET", "/provinces/<province>/school-settings"): row({"admin", "province"}, hidden={"other_province"}),
    ("GET", "/school-accounts"): row({"admin", "province", "other_province"}),
    ("POST", "/school-accounts"): row({"admin", "province"},
                                      json={"username": "sec-school-x", "display_name": "x",
                                            "password": "Secure-2026-pass", "school_code": "10558",
                                            "permissions": NONE}),
    ("GET", "/school-accounts/<user_id>"): row({"admin", "province"}, hidden={"other_province"}),
    ("POST", "/school-accounts/<user_id>/disable"): row({"admin", "province"}, hidden={"other_province"}),
    ("POST", "/school-accounts/<user_id>/enable"): row({"admin", "province"}, hidden={"other_province"}),
    ("PUT", "/school-accounts/<user_id>"): row({"admin", "province"}, hidden={"other_province"},
                                               json={"display_name": "安全测试"}),
    ("POST", "/school-accounts/<user_id>/password"): row({"admin", "province"}, hidden={"other_province"},
                                                         json={"new_password": "Secure-2026-reset"}),
    ("PUT", "/school-accounts/<user_id>/permissions"): row({"admin", "province"}, hidden={"other_province"},
                                                           json={"employment": "write", "archive": "write",
                                                                 "hukou": "write"}),
    ("POST", "/schools"): row({"admin", "province"}, json={"code": "10559", "name": "安全测试大学", "province": "44"}),
    ("GET", "/schools"): row({"admin", "province", "school_n", "other_school", "other_department", "other_province"}
                             | SCHOOL_READ | DEPT_READ),
    ("GET", "/schools/<code>"): row({"admin", "province", "school_n", "other_department"} | SCHOOL_READ | DEPT_READ,
                                    hidden={"other_province", "other_school"}),
    ("POST", "/schools/<school_code>/activation-codes/issue"): row({"school_w"}),
    # the oversight of units (by their region's province): a unit of its own (overseen_employer),
    # so no caller's account has its password reset or is stopped
    ("GET", "/employer-accounts"): row({"admin", "province", "other_province"}),
    ("POST", "/employer-accounts/<employer_id>/password"): row({"admin", "province"}, hidden={"other_province"},
                                                               json={"new_password": "Handed-0ver-2026"}),
    ("POST", "/employer-accounts/<employer_id>/disable"): row({"admin", "province"}, hidden={"other_province"}),
    ("POST", "/employer-accounts/<employer_id>/enable"): row({"admin", "province"}, hidden={"other_province"}),
    ("POST", "/schools/<school_code>/graduates/<graduate_id>/activation-code"): row(
        {"school_w"}, objects={"graduate_id": "law_graduate"}),
    ("PUT", "/schools/<school_code>/agreement-type"): row({"admin", "province"},
                                                          json={"agreement_type": "three_party"}),
    ("POST", "/schools/<school_code>/departments"): row({"admin", "school_w", "school_r", "school_n"},
                                                        json={"code": "SEC", "name": "安全学院"}),
    ("GET", "/schools/<school_code>/departments"): row({"admin", "province", "school_n", "other_department"}
                                                       | SCHOOL_READ | DEPT_READ,
                                                       hidden={"other_province", "other_school"}),
}

RECORDS_MODULE = {
    # archive and hukou have the same endpoints; the module permission decides
    ("GET", "/{m}/registrations"): row(READERS | OTHER_READERS),
    ("GET", "/{m}/registrations/export.xlsx"): row(WRITERS | {"province"} | OTHER_READERS),
    # the same with the filters in the body (a search by identity number never in a logged address)
    ("POST", "/{m}/registrations/search"): row(READERS | OTHER_READERS, json={"q": "学生"}),
    ("POST", "/{m}/registrations/export.xlsx"): row(WRITERS | {"province"} | OTHER_READERS, json={"q": "学生"}),
    ("GET", "/graduates/<graduate_id>/{m}"): row(OBJECT_READERS, hidden=OUTSIDERS - {"other_employer"}),
    ("PUT", "/graduates/<graduate_id>/{m}/draft"): row({"graduate"}, hidden={"other_graduate"}, json=TRANSFER),
    ("POST", "/graduates/<graduate_id>/{m}/reviews"): row(WRITERS, hidden={"other_school", "other_department"},
                                                          json=DECISION),
    ("POST", "/graduates/<graduate_id>/{m}/submit"): row({"graduate"}, hidden={"other_graduate"}, json=TRANSFER),
    ("GET", "/schools/<school_code>/settings/{m}"): row(READERS | {"other_department"},
                                                        hidden={"other_school", "other_province"}),
    ("PUT", "/schools/<school_code>/settings/{m}"): row({"school_w"}, json=SETTINGS),
}
RECORDS = {
    **{(method, rule.format(m=m)): spec for (method, rule), spec in RECORDS_MODULE.items()
       for m in ("archive", "hukou")},
    ("GET", "/graduates/<graduate_id>"): row(OBJECT_READERS, hidden=OUTSIDERS - {"other_employer"}),
    ("PUT", "/graduates/<graduate_id>/confirmation"): row({"graduate"}, hidden={"other_graduate"},
                                                          json={"status": "confirmed"}),
    ("GET", "/roster/template.csv"): row(ALL),
    ("GET", "/roster/template.xlsx"): row(ALL),
    ("GET", "/schools/<school_code>/graduates"): row(READERS | {"other_department"},
                                                     hidden={"other_school", "other_province"}),
    ("GET", "/schools/<school_code>/roster/confirmations"): row(SCHOOL_READ | DEPT_READ | {"other_department"},
                                                                hidden={"other_school"}),
    ("POST", "/schools/<school_code>/roster/imports"): row({"school_w"}, files=roster),
    # 409 for school_w: the scenario's graduate has registrations, so it is never taken off the roster
    ("POST", "/schools/<school_code>/graduates/<graduate_id>/withdrawal"): row({"school_w"},
                                                                              json={"reason": "安全测试"}),
    ("DELETE", "/schools/<school_code>/graduates/<graduate_id>/withdrawal"): row({"school_w"}),
    ("GET", "/schools/<school_code>/roster/imports/<job_id>"): row(SCHOOL_READ, hidden={"other_school"}),
    ("GET", "/snapshots/graduates"): row({"admin", "province", "other_province"}),
    ("GET", "/snapshots/registrations"): row({"admin", "province", "other_province"}),
}

AGREEMENT_READERS = READERS | {"graduate", "employer"}
AGREEMENT_OUTSIDERS = OUTSIDERS
DESTINATION_OUTSIDERS = frozenset({"other_province", "other_school", "other_department", "graduate"})
SIGNING = {
    ("GET", "/agreements"): row(READERS | OTHER_READERS | {"graduate", "employer", "other_graduate", "other_employer"}),
    ("GET", "/agreements/<agreement_id>"): row(AGREEMENT_READERS, hidden=AGREEMENT_OUTSIDERS),
    ("POST", "/agreements/<agreement_id>/accept"): row({"graduate"}, hidden={"other_graduate"}),
    ("GET", "/agreements/<agreement_id>/agreement.pdf"): row(AGREEMENT_READERS, hidden=AGREEMENT_OUTSIDERS),
    ("POST", "/agreements/<agreement_id>/application"): row({"graduate"}, hidden={"other_graduate"},
                                                            json={"unit": UNIT, "terms": TERMS}),
    ("POST", "/agreements/<agreement_id>/decline"): row({"graduate"}, hidden={"other_graduate"},
                                                        json={"reason": "安全测试"}),
    ("POST", "/agreements/<agreement_id>/reviews"): row(WRITERS, hidden={"other_school", "other_department"},
                                                        json=DECISION),
    ("POST", "/agreements/<agreement_id>/scan"): row({"graduate"}, hidden={"other_graduate"}, files=pdf),
    # the scan of the fourth graduate's offline agreement (no employer on it)
    ("GET", "/agreements/<agreement_id>/scan"): row(READERS, hidden=AGREEMENT_OUTSIDERS | {"graduate", "employer"},
                                                    objects={"agreement_id": "offline_agreement"}),
    ("POST", "/agreements/<agreement_id>/terminations"): row({"graduate", "employer"},
                                                             hidden={"other_graduate", "other_employer"},
                                                             json={"reason": "安全测试"}),
    ("GET", "/agreements/<agreement_id>/terminations"): row(AGREEMENT_READERS, hidden=AGREEMENT_OUTSIDERS),
    ("POST", "/agreements/<agreement_id>/void-request"): row({"graduate"}, hidden={"other_graduate"},
                                                             json={"reason": "安全测试"}),
    ("POST", "/agreements/<agreement_id>/void-reviews"): row({"school_w"}, hidden={"other_school"}, json=DECISION),
    ("POST", "/agreements/<agreement_id>/withdraw"): row({"employer"}, hidden={"other_employer"}),
    ("POST", "/agreements/offline"): row({"graduate", "other_graduate"}, json={}),
    ("POST", "/agreements/supplementary"): row({"graduate", "other_graduate"}, json={}),
    ("POST", "/agreements/verify"): row(ALL, json={"sha256": "0" * 64}),
    ("GET", "/destinations/<registration_id>"): row(READERS | {"other_graduate"}, hidden=DESTINATION_OUTSIDERS),
    ("POST", "/destinations/<registration_id>/proofs"): row({"other_graduate"}, hidden={"graduate"}, files=pdf),
    ("GET", "/destinations/<registration_id>/proofs/<attachment_id>"): row(READERS | {"other_graduate"},
                                                                          hidden=DESTINATION_OUTSIDERS),
    ("POST", "/destinations/<registration_id>/reviews"): row(WRITERS, hidden={"other_school", "other_department"},
                                                             json=DECISION),
    ("POST", "/destinations/<registration_id>/void-request"): row({"other_graduate"}, hidden={"graduate"},
                                                                  json={"reason": "安全测试"}),
    ("POST", "/destinations/<registration_id>/void-reviews"): row({"school_w"}, hidden={"other_school"},
                                                                  json=DECISION),
    ("GET", "/graduates/<graduate_id>/destination"): row(OBJECT_READERS, hidden=OUTSIDERS - {"other_employer"}),
    ("PUT", "/graduates/<graduate_id>/destination/draft"): row({"graduate"}, hidden={"other_graduate"},
                                                               json={"destination_code": "11", "fields": UNIT}),
    ("POST", "/graduates/<graduate_id>/destination/submit"): row({"graduate"}, hidden={"other_graduate"}, json={}),
    ("POST", "/invitations"): row({"employer", "other_employer"}, json={}),
    **{("GET", f"/lists/{name}"): row(READERS | OTHER_READERS)
       for name in ("destinations", "online-signing", "supplementary", "terminations")},
    **{("GET", f"/lists/{name}/export.xlsx"): row(READERS | OTHER_READERS)  # 只读 downloads too
       for name in ("destinations", "online-signing", "supplementary", "terminations")},
    ("GET", "/schools/<school_code>/settings"): row(READERS | {"other_department"},
                                                    hidden={"other_school", "other_province"}),
    ("PUT", "/schools/<school_code>/settings"): row({"school_w"},
                                                    json={"department_review": False}),
    ("GET", "/snapshots/agreements"): row({"admin", "province", "other_province"}),
    ("GET", "/snapshots/destinations"): row({"admin", "province", "other_province"}),
    ("GET", "/terminations/<termination_id>"): row(AGREEMENT_READERS, hidden=AGREEMENT_OUTSIDERS),
    # the graduate asked for the termination: only the employer may answer it
    ("POST", "/terminations/<termination_id>/agree"): row({"employer"}, hidden={"other_graduate", "other_employer"},
                                                          expected={"graduate": 403}),
    ("POST", "/terminations/<termination_id>/disagree"): row({"employer"},
                                                             hidden={"other_graduate", "other_employer"},
                                                             expected={"graduate": 403},
                                                             json={"reason": "安全测试"}),
    # the letter of the offline agreement's termination (the fourth graduate's; no employer on it)
    ("GET", "/terminations/<termination_id>/letter"): row(READERS,
                                                          hidden=AGREEMENT_OUTSIDERS | {"graduate", "employer"},
                                                          objects={"termination_id": "offline_termination"}),
    ("POST", "/terminations/<termination_id>/reviews"): row({"school_w"}, hidden={"other_school"}, json=DECISION),
    # ... and only the graduate may withdraw it
    ("POST", "/terminations/<termination_id>/withdraw"): row({"graduate"}, hidden={"other_graduate", "other_employer"},
                                                             expected={"employer": 403}),
}

STATS = {
    ("GET", "/destinations"): row(READERS | OTHER_READERS),
    ("GET", "/province"): row({"province", "other_province"}),
    ("GET", "/province/export.xlsx"): row({"province", "other_province"}),
    ("GET", "/schools/<school_code>"): row(READERS | {"other_department"}, hidden={"other_province"}),
    ("GET", "/schools/<school_code>/export.xlsx"): row(READERS | {"other_department"}, hidden={"other_province"}),
}

FEED_READERS = frozenset({"province", "school_w", "school_r", "other_province", "other_school"})
FEED_WRITERS = frozenset({"province", "school_w", "other_province", "other_school"})
# The ids in these paths name no object of the world: callers let in get a 404 from the service.
NO_OBJECT = dict.fromkeys(FEED_READERS, 404)
NO_OBJECT_WRITE = dict.fromkeys(FEED_WRITERS, 404)
# Feed credentials of a school: none yet (404); creating them needs RabbitMQ, which the world does
# not configure (503 broker_unavailable, by design of the embedded mode).
NO_CREDENTIALS = {"school_w": 404, "school_r": 404, "other_school": 404}
NO_BROKER = {"school_w": 503, "other_school": 503}
SYNC_GATEWAY = {
    ("GET", "/feed/asyncapi.json"): row(ALL),
    ("GET", "/feed/credentials"): row(FEED_READERS, expected=NO_CREDENTIALS),
    ("POST", "/feed/credentials"): row(FEED_WRITERS, expected=NO_BROKER),
    ("DELETE", "/feed/credentials"): row(FEED_WRITERS, expected={"school_w": 404, "other_school": 404}),
    ("POST", "/feed/credentials/rotate"): row(FEED_WRITERS, expected=NO_BROKER),
    ("GET", f"/feed/deliveries/<{INT8}:delivery_id>"): row(FEED_READERS, expected=NO_OBJECT),
    ("POST", f"/feed/deliveries/<{INT8}:delivery_id>/redeliver"): row(FEED_WRITERS, expected=NO_OBJECT_WRITE),
    ("GET", "/feed/events"): row(FEED_READERS),
    ("GET", "/feed/webhooks"): row(FEED_READERS),
    ("POST", "/feed/webhooks"): row(FEED_WRITERS, json={"url": "not a url"}),
    # school 10558's webhook: another school does not see it
    ("DELETE", f"/feed/webhooks/<{INT4}:webhook_id>"): row(FEED_WRITERS - {"other_school", "other_province"},
                                                       hidden={"other_school", "other_province"}),
    ("GET", f"/feed/webhooks/<{INT4}:webhook_id>/deliveries"): row(FEED_READERS - {"other_school", "other_province"},
                                                               hidden={"other_school", "other_province"}),
    ("GET", "/sync/failed"): row(FEED_READERS),
    ("POST", f"/sync/failed/<{INT4}:record_id>/retry"): row(FEED_WRITERS, expected=NO_OBJECT_WRITE),
    ("POST", "/sync/failed/retry-all"): row(FEED_WRITERS),
    ("GET", "/sync/status"): row(FEED_READERS),
}

# ems-sim stands in for the provincial employment management system outside the platform: its API
# is open by design (the gateway does not route to it; only sync-gateway and the tests call it).
EMS_SIM = {
    ("DELETE", "/admin/faults"): row(ALL),
    ("GET", "/admin/faults"): row(ALL),
    ("PUT", "/admin/faults"): row(ALL, json={"bogus": True}),
    ("DELETE", "/admin/stats"): row(ALL),
    ("GET", "/admin/stats"): row(ALL),
    ("POST", "/admin/tamper"): row(ALL, json={}),
    ("POST", "/batch"): row(ALL, json={}),
    ("GET", "/graduates/<exam_number>"): row(ALL, expected=dict.fromkeys(ALL, 404)),  # nothing synced yet
    ("DELETE", "/graduates/<exam_number>/<any(destination, archive, hukou):kind>"): row(ALL),
    ("PATCH", "/graduates/<exam_number>/<any(destination, archive, hukou):kind>"): row(ALL, json={}),
    ("PUT", "/graduates/<exam_number>/<any(destination, archive, hukou):kind>"): row(ALL, json={}),
    ("GET", "/records"): row(ALL),
}

COMMON = {("GET", "/whoami"): row(ALL)}
TABLE: dict[str, dict[tuple[str, str], Row]] = {
    "accounts": {**ACCOUNTS, **COMMON}, "records": {**RECORDS, **COMMON}, "signing": {**SIGNING, **COMMON},
    "stats": {**STATS, **COMMON}, "sync-gateway": {**SYNC_GATEWAY, **COMMON}, "ems-sim": {**EMS_SIM, **COMMON},
}
# Probes, metrics and the API documentation: public by design (check_declarations exempts them).
BUILTIN = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/openapi.json"), ("GET", "/docs")}

_PLACEHOLDER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def plain_rule(rule: str) -> str:
    """The rule without its converters, as OpenAPI spells the path (``{x}`` as ``<x>``)."""
    return _PLACEHOLDER.sub(r"<\1>", rule)


def openapi_rule(path: str) -> str:
    return path.replace("{", "<").replace("}", ">")


def concrete_path(rule: str, ids: dict[str, str], objects: dict[str, str] | None = None) -> str:
    """The rule with the world's objects in its placeholders (``objects`` names other ones)."""
    users = {"/department-accounts/": "department_user", "/school-accounts/": "school_user",
             "/province-accounts/": "province_user"}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if objects and name in objects:
            return ids[objects[name]]
        if name == "user_id":
            return ids[next(key for prefix, key in users.items() if rule.startswith(prefix))]
        fixed = {"school_code": "10558", "code": "10558", "province": "44", "module": "hukou", "kind": "destination",
                 "delivery_id": "987654", "webhook_id": ids["webhook"], "record_id": "987654",
                 "exam_number": ids["exam_number"], "graduate_id": ids["graduate"], "agreement_id": ids["agreement"],
                 "termination_id": ids["termination"], "registration_id": ids["registration"],
                 "attachment_id": ids["attachment"], "job_id": ids["job"], "employer_id": ids["overseen_employer"]}
        return fixed[name]

    return _PLACEHOLDER.sub(value, rule)


def body_of(spec: Row, ids: dict[str, str]) -> dict[str, Any]:
    if spec.files is not None:
        return {"data": spec.files(), "content_type": "multipart/form-data"}
    if spec.json is None:
        return {}
    return {"json": spec.json(ids) if callable(spec.json) else spec.json}


__all__ = ["ALL", "BUILTIN", "TABLE", "Row", "body_of", "concrete_path", "make_credit_code"]
