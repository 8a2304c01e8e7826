"""The scripted run the security suite attacks: demo data (accounts), a roster import, activations,
signings, terminations, destination, archive and hukou registrations, lists and exports, all
through the services' HTTP APIs, with the events pumped between them. It leaves the ids of the
objects the authorization matrix needs in ``world.ids``."""

from __future__ import annotations

import io
from typing import Any

from security_world import World, new_id, permissions
from sqlalchemy import text

from quxiang.common.auth.principal import Access, Principal, Role, Scope
from quxiang.common.times import latest_deadline
from quxiang.common.validators import make_credit_code, make_identity_number

ROSTER_HEADER = "考生号,学号,姓名,性别,身份证号,院系,专业代码,专业名称,学历,生源所在地,毕业年份,手机号,邮箱\n"
TERMS = {"position_category": "10", "job_title": "软件工程师", "work_region": "440106", "work_place": "广州市天河区",
         "monthly_salary": 12000, "contract_months": 36, "probation_months": 3, "contact_person": "王经理",
         "contact_phone": "13800000000", "archive_destination": "广州市人才中心", "hukou_destination": "广州市天河区",
         "remarks": "五险一金"}
UNIT = {"unit_name": "广州示例信息科技有限公司", "credit_code": make_credit_code("91440106MA59DEMX1"),
        "unit_nature": "39", "unit_industry": "34", "unit_region": "440106", "position_category": "10"}
OFFLINE_UNIT = {"name": "佛山示例制造有限公司", "credit_code": make_credit_code("91440604MA5DEMX03"), "nature": "39",
                "industry": "34", "region": "440604"}
# The identity numbers of the roster: the suite checks none of them ever shows in full.
IDENTITY_NUMBERS = [make_identity_number(f"44010620030307{2 * i + 1:03d}") for i in range(4)]
EXAM_NUMBERS = [f"26440199000{i:02d}" for i in range(1, 5)]


REAL_CALLERS = {"admin": "demo-admin", "province": "demo-gd", "school_w": "demo-zsu", "department_w": "demo-zsu-cs",
                "employer": "demo-employer", "other_school": "demo-scut", "other_department": "demo-zsu-law",
                "other_employer": "sec-employer-2"}


def headers(world: World, principal: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.token(principal)}"}


def ok(response: Any, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201)), (response.request.path, response.status_code,
                                                              response.get_data(as_text=True)[:500])
    return response.get_json(silent=True)


def populate(world: World) -> dict[str, str]:
    world.pump()
    ids = world.ids
    admin = headers(world, Principal(new_id(), Role.ADMIN, Scope()))
    province = headers(world, Principal(new_id(), Role.PROVINCE, Scope(province="44")))
    school = headers(world, Principal(new_id(), Role.SCHOOL, Scope(province="44", school="10558"),
                                      permissions(Access.WRITE)))
    accounts, records, signing = world.client("accounts"), world.client("records"), world.client("signing")

    ok(accounts.post("/provinces/44/modules/hukou/enable", headers=province))
    departments = ok(accounts.get("/schools/10558/departments", headers=school))
    by_code = {d["code"]: d["id"] for d in (departments.get("items", departments) if isinstance(departments, dict)
                                            else departments)}
    ids["department"], ids["other_department"] = by_code["CS"], by_code["LAW"]
    with world.services["accounts"].engine.connect() as conn:
        ids["employer"] = conn.execute(text("select id from employers order by created_at limit 1")).scalar()
    other = ok(accounts.post("/employers", json={
        "credit_code": make_credit_code("91440604MA5DEMX03"), "name": "佛山示例制造有限公司", "nature": "39",
        "industry": "34", "region": "440604", "address": "佛山市禅城区某路 2 号", "contact_name": "李经理",
        "contact_phone": "0757-12345678", "username": "sec-employer-2", "password": "Employer-2026-pass"}))
    ids["other_employer"] = other["employer"]["id"]
    overseen = ok(accounts.post("/employers", json={
        "credit_code": make_credit_code("91440105MA5DEMY04"), "name": "广州示例服务有限公司", "nature": "39",
        "industry": "34", "region": "440105", "address": "广州市海珠区某路 3 号", "contact_name": "周经理",
        "contact_phone": "020-22345678", "username": "sec-employer-3", "password": "Employer-2026-pass"}))
    ids["overseen_employer"] = overseen["employer"]["id"]
    world.pump()

    # the roster: two graduates in CS, one in LAW, one at another school's department is not needed
    rows = [f"{EXAM_NUMBERS[i]},S{i},学生{i},男,{IDENTITY_NUMBERS[i]},{dept},080901,计算机科学与技术,31,440106,2026,,\n"
            for i, dept in enumerate(["CS", "CS", "LAW", "CS"])]
    job = ok(records.post("/schools/10558/roster/imports", headers=school, content_type="multipart/form-data",
                          data={"file": (io.BytesIO((ROSTER_HEADER + "".join(rows)).encode()), "roster.csv")}), 201)
    ids["job"] = job["id"] if "id" in job else job["job_id"]
    world.pump()
    graduates = ok(records.get("/schools/10558/graduates?page_size=100", headers=school))["items"]
    by_exam = {g["exam_number"]: g["id"] if "id" in g else g["graduate_id"] for g in graduates}
    ids["graduate"], ids["other_graduate"], ids["law_graduate"], ids["offline_graduate"] = (
        by_exam[e] for e in EXAM_NUMBERS)
    ids["exam_number"] = EXAM_NUMBERS[0]

    graduate = headers(world, Principal(new_id(), Role.GRADUATE, Scope(province="44", school="10558",
                                                                       graduate=ids["graduate"])))
    employer = headers(world, Principal(new_id(), Role.EMPLOYER, Scope(employer=ids["employer"])))

    # online signing: invitation, acceptance, the school's approval, then a termination request
    ok(signing.put("/schools/10558/settings", headers=school, json={"department_review": False}))
    agreement = ok(signing.post("/invitations", headers=employer,
                                json={"exam_number": EXAM_NUMBERS[0], "name": "学生0", "terms": TERMS}), 201)
    ids["agreement"] = agreement["id"]
    ok(signing.post(f"/agreements/{ids['agreement']}/accept", headers=graduate))
    ok(signing.post(f"/agreements/{ids['agreement']}/reviews", headers=school, json={"decision": "approve"}))
    termination = ok(signing.post(f"/agreements/{ids['agreement']}/terminations", headers=graduate,
                                  json={"reason": "个人原因"}), 201)
    ids["termination"] = termination["id"]
    world.pump()

    # a fourth graduate's offline agreement, approved and scanned: the object of the scan's rows
    offline_graduate = headers(world, Principal(new_id(), Role.GRADUATE, Scope(province="44", school="10558",
                                                                               graduate=ids["offline_graduate"])))
    offline = ok(signing.post("/agreements/offline", headers=offline_graduate, json={"unit": OFFLINE_UNIT,
                                                                                     "terms": TERMS}), 201)
    ids["offline_agreement"] = offline["id"]
    ok(signing.post(f"/agreements/{offline['id']}/reviews", headers=school, json={"decision": "approve"}))
    ok(signing.post(f"/agreements/{offline['id']}/scan", headers=offline_graduate, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(b"%PDF-1.4\n%scan\n%%EOF"), "scan.pdf")}))
    ok(signing.post(f"/agreements/{offline['id']}/reviews", headers=school, json={"decision": "approve"}))
    # ... and its offline termination, with the letter
    letter_pdf = (io.BytesIO(b"%PDF-1.4\n%letter\n%%EOF"), "letter.pdf")
    letter = ok(signing.post(f"/agreements/{offline['id']}/terminations", headers=offline_graduate,
                             content_type="multipart/form-data", data={"reason": "单位变更", "file": letter_pdf}), 201)
    ids["offline_termination"] = letter["id"]

    # the other graduate: a destination registration (a further study) with a proof
    other_graduate = headers(world, Principal(new_id(), Role.GRADUATE, Scope(province="44", school="10558",
                                                                             graduate=ids["other_graduate"])))
    ids["destination_graduate"] = ids["other_graduate"]
    draft = ok(signing.put(f"/graduates/{ids['other_graduate']}/destination/draft", headers=other_graduate,
                           json={"destination_code": "11", "fields": UNIT}))
    ids["registration"] = draft["id"]
    proof = ok(signing.post(f"/destinations/{ids['registration']}/proofs", headers=other_graduate,
                            content_type="multipart/form-data",
                            data={"file": (io.BytesIO(b"%PDF-1.4\n%proof\n%%EOF"), "proof.pdf")}), 201)
    ids["attachment"] = proof["proofs"][0]["id"]
    ok(signing.post(f"/graduates/{ids['other_graduate']}/destination/submit", headers=other_graduate, json={}))

    # archive and hukou: the school's settings, the graduate's registrations
    for module in ("archive", "hukou"):
        ok(records.put(f"/schools/10558/settings/{module}", headers=school,
                       json={"department_review": False, "deadline": latest_deadline().isoformat()}))
    world.pump()
    ok(records.post(f"/graduates/{ids['graduate']}/hukou/submit", headers=graduate,
                    json={"transfer_type": "origin", "address": "广州市越秀区某街2号"}))
    ok(records.post(f"/graduates/{ids['graduate']}/archive/submit", headers=graduate,
                    json={"transfer_type": "origin", "address": "广州市越秀区某街2号",
                          "receiving_unit": "广州市人才中心", "postcode": "510000", "recipient": "张老师",
                          "phone": "020-12345678"}))
    world.pump()

    # the school's webhook subscription (sync-gateway's feed)
    webhook = world.client("sync-gateway").post("/feed/webhooks", headers=school,
                                                json={"url": "http://127.0.0.1:9/quxiang-hook"})
    ids["webhook"] = str(ok(webhook, 201)["id"])

    # lists and exports, as the schools and the province read them
    for path in ("/lists/online-signing", "/lists/destinations", "/lists/terminations"):
        ok(signing.get(path, headers=school))
        ok(signing.get(path + "/export.xlsx", headers=school))
    for module in ("archive", "hukou"):
        ok(records.get(f"/{module}/registrations", headers=province))
        ok(records.get(f"/{module}/registrations/export.xlsx", headers=school))
    ok(world.client("stats").get("/schools/10558", headers=school))
    ok(accounts.get("/school-accounts", headers=admin))
    # the accounts the matrix disables and re-permissions (not the callers' own)
    none = {"employment": "none", "archive": "none", "hukou": "none"}
    ids["department_user"] = ok(accounts.post("/department-accounts", headers=school, json={
        "username": "sec-dept-target", "display_name": "目标院系", "password": "Target-2026-pass",
        "department_id": ids["department"], "permissions": none}), 201)["id"]
    ids["school_user"] = ok(accounts.post("/school-accounts", headers=province, json={
        "username": "sec-school-target", "display_name": "目标学校", "password": "Target-2026-pass",
        "school_code": "10558", "permissions": none}), 201)["id"]
    ids["province_user"] = ok(accounts.post("/province-accounts", headers=admin, json={
        "username": "sec-prov-target", "display_name": "目标省级", "password": "Target-2026-pass",
        "province": "44"}), 201)["id"]
    # the callers that are real accounts: their ids make /me and logout answer for them
    with world.services["accounts"].engine.connect() as conn:
        users = dict(conn.execute(text("select username, id from users")).all())
        graduates = dict(conn.execute(text("select graduate, id from users where role = 'graduate'")).all())
    ids.update({f"user:{caller}": users[name] for caller, name in REAL_CALLERS.items()})
    ids["user:graduate"], ids["user:other_graduate"] = graduates[ids["graduate"]], graduates[ids["other_graduate"]]
    return ids
