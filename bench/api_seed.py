"""The data set ``make bench-api`` loads into its stack, only through the APIs (as people would):

- the province switches 网签 (三方协议) and 档案 on; 中山大学 (10558) completes its settings with
  department review;
- the school imports a roster of ``graduates`` rows (two thirds 计算机学院 CS, a third 法学院 LAW);
- the school issues activation codes for ``activated`` graduates, who activate their accounts;
- the employer invites every activated graduate and ``extra_invitations`` more (left ``invited``);
- the first ``load_graduates`` activated graduates (the ones the workload logs in as): some decline,
  the others accept; of those the department approves some and the school approves some of these;
  they register their archive transfer: some leave a draft, some submit, some are approved;
- the other activated graduates accept: their agreements wait for the department (the workload's
  review pool).

Set-up calls that go through accounts' argon2 (activation, the graduates' own logins here) go to
accounts' gunicorn directly, so the gateway's login limit (1/s per address) does not make the set-up
crawl; everything else goes through the gateway.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_workload import ARCHIVE_DRAFT, TERMS, Dataset

from quxiang.common.testing.stack_run import Gateway, eventually
from quxiang.common.times import latest_deadline
from quxiang.common.validators import make_identity_number

SCHOOL = "10558"
HEADER = "考生号,学号,姓名,性别,身份证号,院系,专业代码,专业名称,学历,生源所在地,毕业年份,手机号,邮箱\n"
GRADUATE_PASSWORD = "Bench-2026-pass"
MAJORS = {"CS": ("080901", "计算机科学与技术"), "LAW": ("030101", "法学")}


def exam_number(i: int) -> str:
    return f"264401{i:07d}"


def graduate_name(i: int) -> str:
    return f"学生{i}"


def roster_csv(count: int) -> str:
    """``count`` valid rows: distinct 考生号 and identity numbers (1000 a birth date, the gender digit
    matching 性别), two thirds in CS."""
    lines = [HEADER]
    for i in range(count):
        serial = i % 1000
        birth = f"2003{1 + (i // 1000) % 12:02d}{1 + (i // 12000) % 28:02d}"
        identity = make_identity_number(f"440106{birth}{serial:03d}")
        department = "LAW" if i % 3 == 2 else "CS"
        code, major = MAJORS[department]
        lines.append(f"{exam_number(i)},S{i:07d},{graduate_name(i)},{'男' if serial % 2 else '女'},{identity},"
                     f"{department},{code},{major},31,440106,2026,,\n")
    return "".join(lines)


def _parallel(function: Any, items: list[Any], workers: int = 4) -> list[Any]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(function, items))


def seed(gateway_url: str, accounts_url: str, graduates: int = 3000, activated: int = 160, load_graduates: int = 40,
         extra_invitations: int = 400, say: Any = print) -> Dataset:
    api, direct = Gateway(gateway_url), Gateway(accounts_url)
    province, school = api.login("demo-gd"), api.login("demo-zsu")
    department, employer = api.login("demo-zsu-cs"), api.login("demo-employer")

    api.ok("POST", "/api/accounts/provinces/44/modules/employment/enable", province,
           json={"agreement_type": "three_party"})
    api.ok("POST", "/api/accounts/provinces/44/modules/archive/enable", province)
    api.ok("PUT", f"/api/accounts/schools/{SCHOOL}/agreement-type", province, json={"agreement_type": "three_party"})

    roster = roster_csv(graduates)

    def imported() -> Any:
        response = api.call("POST", f"/api/records/schools/{SCHOOL}/roster/imports", school,
                            files={"file": ("roster.csv", io.BytesIO(roster.encode()), "text/csv")})
        assert response.status_code == 201, response.text[:500]
        return response.json()

    job = eventually(imported, "the roster import (departments known to records)", timeout=60)
    say(f"  roster: {job['created']} graduates imported")
    # once the province's switch-on has reached records and signing (before it: 403)
    eventually(lambda: api.ok("PUT", f"/api/records/schools/{SCHOOL}/settings/archive", school,
                              json={"department_review": True, "deadline": latest_deadline().isoformat()}),
               "records takes the archive settings", timeout=60)
    eventually(lambda: api.ok("PUT", f"/api/signing/schools/{SCHOOL}/settings", school,
                              json={"department_review": True}), "signing takes the settings", timeout=60)

    codes: list[dict[str, Any]] = []

    def issued() -> bool:
        answer = api.ok("POST", f"/api/accounts/schools/{SCHOOL}/activation-codes/issue?limit={activated - len(codes)}",
                        school)
        codes.extend(answer["codes"])
        return len(codes) >= activated

    eventually(issued, "activation codes for the graduates provisioned from the roster", timeout=180)

    def activate(code: dict[str, Any]) -> tuple[str, str, str]:
        direct.ok("POST", "/api/accounts/graduates/activate", json={
            "exam_number": code["exam_number"], "activation_code": code["activation_code"],
            "password": GRADUATE_PASSWORD})
        token = direct.login(code["exam_number"], GRADUATE_PASSWORD)
        return code["graduate_id"], code["exam_number"], token

    people = _parallel(activate, codes)
    say(f"  {len(people)} graduates activated")

    names = {exam_number(i): graduate_name(i) for i in range(graduates)}

    def invite(number: str) -> str:
        def once() -> Any:
            response = api.call("POST", "/api/signing/invitations", employer,
                                json={"exam_number": number, "name": names[number], "terms": TERMS})
            assert response.status_code == 201, response.text[:300]
            return response.json()["id"]
        return eventually(once, f"the invitation of {number} (signing knows the graduate)", timeout=120)

    agreements = _parallel(invite, [number for _, number, _ in people])
    invited = {number for _, number, _ in people}
    others = [n for n in names if n not in invited]
    agreements += _parallel(invite, others[:extra_invitations])
    uninvited = [(n, names[n]) for n in others[extra_invitations:]]
    say(f"  {len(agreements)} invitations")

    load, pool = people[:load_graduates], people[load_graduates:]
    answers = []
    for k, ((_, _, token), agreement) in enumerate(zip(load, agreements, strict=False)):
        answers.append((k, token, agreement, "decline" if k % 4 == 3 else "accept"))

    def answer(item: tuple[int, str, str, str]) -> None:
        _, token, agreement, action = item
        api.ok("POST", f"/api/signing/agreements/{agreement}/{action}", token)

    _parallel(answer, answers)
    _parallel(answer, [(0, token, agreement, "accept")
                       for (_, _, token), agreement in zip(pool, agreements[len(load):], strict=False)])
    awaiting = list(agreements[len(load):len(people)])
    cs = set(_readable(api, department))
    # The department's reviews on the load graduates' agreements: half approved, a quarter of
    # those approved by the school too.
    accepted = [agreement for k, _, agreement, action in answers if action == "accept" and agreement in cs]
    for k, agreement in enumerate(accepted):
        if k % 2 == 0:
            api.ok("POST", f"/api/signing/agreements/{agreement}/reviews", department, json={"decision": "approve"})
            if k % 4 == 0:
                api.ok("POST", f"/api/signing/agreements/{agreement}/reviews", school, json={"decision": "approve"})
        else:
            awaiting.append(agreement)
    awaiting = [a for a in awaiting if a in cs]
    say(f"  agreements: {len(accepted)} accepted, {len(awaiting)} waiting for the department")

    def archive_open(graduate: str, token: str) -> Any:
        return eventually(lambda: api.ok("GET", f"/api/records/graduates/{graduate}/archive", token)
                          ["availability"]["open"], "records has the archive module switched on and set", timeout=60)

    archive_open(load[0][0], load[0][2])

    def register(item: tuple[int, tuple[str, str, str]]) -> None:
        k, (graduate, _, token) = item
        if k % 3 == 0:
            api.ok("PUT", f"/api/records/graduates/{graduate}/archive/draft", token, json=ARCHIVE_DRAFT)
        elif k % 3 == 1:
            api.ok("POST", f"/api/records/graduates/{graduate}/archive/submit", token, json=ARCHIVE_DRAFT)

    _parallel(register, list(enumerate(load)))
    return Dataset(school=SCHOOL, province_login="demo-gd", school_login="demo-zsu", department_login="demo-zsu-cs",
                   employer_login="demo-employer", graduates=[(graduate, number) for graduate, number, _ in load],
                   agreements=[a for a in agreements if a], uninvited=uninvited, awaiting_department=awaiting,
                   drafting=[(graduate, number) for k, (graduate, number, _) in enumerate(load) if k % 3 != 1])


def _readable(api: Gateway, token: str) -> Iterator[str]:
    """The agreement ids the department user's 图6 list shows (its own department only)."""
    page = 1
    while True:
        body = api.ok("GET", f"/api/signing/lists/online-signing?page={page}&page_size=100", token)
        yield from (row["id"] for row in body["items"])
        if page * 100 >= body.get("total", 0) or not body["items"]:
            return
        page += 1
