"""The 图6 lists (在线签约, 补登, 解约, 去向登记) and their exports: rows and labels, every filter, the
text search on each field, sorting with its tie-breaker, the page cap, the scope of every role, the
permission each needs, and the exported workbook."""

from __future__ import annotations

import io
import tempfile
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from quxiang.common.auth.principal import Access, Role

from .conftest import TERMS
from .test_agreement_flows import UNIT, approve
from .test_destinations import UNIT as DESTINATION_UNIT
from .test_online_signing import Scene

MASKED = "440***********1234"


class Lists(Scene):
    """School 10558: 学生1 (计算机学院) approved online with e1, then asks to terminate; 学生2 (数学学院)
    declined e2's invitation, then registered 502 三支一扶; 学生3 (计算机学院, 硕士, 数学专业) invited
    by e1; 学生4 (数学学院) applied offline; 学生5 (计算机学院, 2025) registered a paper agreement
    (补登); 学生6 only drafted a destination. School 10561 (same province): 学生7 invited by e1."""

    def __init__(self, client, world):
        super().__init__(client, world)
        assert self.settings().status_code == 200
        world.graduate(3, self.cs, education_level="11", major_code="070101", major_name="数学与应用数学")
        self.g4 = world.graduate(4, self.math)
        self.g5 = world.graduate(5, self.cs, graduation_year=2025)
        self.g6 = world.graduate(6, self.cs)
        self.department = world.department_user(self.cs)
        self.a1 = self.invite(self.e1, 1).get_json()["id"]
        assert self.act(self.a1, "accept", world.graduate_user(self.g1)).status_code == 200
        approve(self, self.a1)
        self.t1 = self.client.post(f"/agreements/{self.a1}/terminations", headers=world.graduate_user(self.g1),
                                   json={"reason": "个人原因"}).get_json()["id"]
        self.a2 = self.invite(self.e2, 2).get_json()["id"]
        assert self.act(self.a2, "decline", world.graduate_user(self.g2)).status_code == 200
        self.a3 = self.invite(self.e1, 3).get_json()["id"]
        self.a4 = self.graduate_post(self.g4, "/agreements/offline", {"unit": UNIT, "terms": TERMS})["id"]
        self.a5 = self.graduate_post(self.g5, "/agreements/supplementary",
                                     {"unit": UNIT, "terms": TERMS, "signed_on": "2026-03-02"})["id"]
        self.d2 = self.destination(self.g2, "502", submit=True)
        self.destination(self.g6, "70", fields={}, submit=False)
        world.school("10561", "华南理工大学")
        self.other = world.school_user("10561")
        self.other_department = world.department("10561", "01", "机械学院")
        world.graduate(7, self.other_department, school="10561")
        assert self.client.put("/schools/10561/settings", headers=self.other,
                               json={"department_review": True}).status_code == 200
        self.a7 = self.invite(self.e1, 7).get_json()["id"]

    def graduate_post(self, graduate, path, body):
        response = self.client.post(path, headers=self.world.graduate_user(graduate), json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def destination(self, graduate, code, fields=None, submit=True):
        headers = self.world.graduate_user(graduate)
        body = {"destination_code": code, "fields": DESTINATION_UNIT if fields is None else fields}
        saved = self.client.put(f"/graduates/{graduate}/destination/draft", headers=headers, json=body)
        assert saved.status_code in (200, 201), saved.get_json()
        if submit:
            submitted = self.client.post(f"/graduates/{graduate}/destination/submit", headers=headers)
            assert submitted.status_code == 200, submitted.get_json()
        return saved.get_json()["id"]

    def get(self, path, headers=None):
        response = self.client.get(path, headers=headers or self.school)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def names(self, path, headers=None):
        return [i["name"] for i in self.get(path, headers)["items"]]


@pytest.fixture
def s(client, world):
    return Lists(client, world)


# --- rows and labels -----------------------------------------------------------------------------


def test_online_signing_rows_and_labels(s):
    body = s.get("/lists/online-signing?sort=name&order=asc")
    assert body["total"] == 4
    rows = {i["name"]: i for i in body["items"]}
    assert [(rows[n]["initiator_label"], rows[n]["status_label"]) for n in ("学生1", "学生2", "学生3", "学生4")] == [
        ("单位", "签约审核通过"), ("单位", "学生已拒绝签约 签约失败"), ("单位", "已发出签约邀请 待学生应约"),
        ("学生", "协议申请 待院系审核")]
    first = rows["学生1"]
    assert first["id"] == s.a1 and first["school_name"] == "中山大学" and first["department_name"] == "计算机学院"
    assert first["major_name"] == "计算机科学与技术" and first["education_level_label"] == "本科生毕业"
    assert first["identity_number"] == MASKED and first["student_number"] == "S000001"
    assert first["number"] == "20261055831000001" and first["unit_name"] == "广州示例信息科技有限公司"
    assert first["created_at"] and first["updated_at"]
    assert rows["学生2"]["unit_name"] == "深圳示例科技有限公司"
    assert rows["学生3"]["education_level_label"] == "硕士生毕业"
    # the row's id opens the detail view, with its history
    detail = s.get(f"/agreements/{first['id']}")
    assert detail["number"] == first["number"] and detail["history"]


def test_offline_applications_are_online_signing_and_paper_ones_supplementary(s):
    # The guide (§5): 在线签约管理 holds the online signings and the graduate's 线下签约 (an e-agreement
    # applied for); 补登管理 only the paper agreements registered afterwards.
    online = {i["name"]: i for i in s.get("/lists/online-signing")["items"]}
    assert (online["学生4"]["id"], online["学生4"]["flow_label"], online["学生4"]["initiator_label"],
            online["学生4"]["status_label"]) == (s.a4, "线下签约", "学生", "协议申请 待院系审核")
    assert online["学生4"]["unit_name"] == UNIT["name"] and online["学生4"]["identity_number"] == MASKED
    assert s.names("/lists/online-signing?flow=offline") == ["学生4"]
    assert sorted(s.names("/lists/online-signing?flow=online")) == ["学生1", "学生2", "学生3"]
    assert s.names("/lists/online-signing?initiator=graduate") == ["学生4"]
    rows = {i["name"]: i for i in s.get("/lists/supplementary")["items"]}
    assert set(rows) == {"学生5"}
    assert (rows["学生5"]["id"], rows["学生5"]["flow_label"], rows["学生5"]["status_label"]) == (
        s.a5, "补登", "待上传签约材料")
    assert s.client.get("/lists/online-signing?flow=supplementary", headers=s.school).status_code == 422


def test_termination_rows_and_filters(s):
    body = s.get("/lists/terminations")
    assert body["total"] == 1
    row = body["items"][0]
    assert (row["id"], row["agreement_id"], row["name"], row["number"]) == (s.t1, s.a1, "学生1", "20261055831000001")
    assert (row["mode_label"], row["requested_by_label"], row["status_label"], row["initiator_label"]) == (
        "线上解约", "学生", "解约申请 待对方确认", "单位")
    assert row["unit_name"] == "广州示例信息科技有限公司" and row["identity_number"] == MASKED
    assert row["agreement_status_label"] == "签约审核通过"
    assert s.get(f"/terminations/{row['id']}")["history"]
    for query, total in (("mode=online", 1), ("mode=offline", 0), ("requested_by=graduate", 1),
                         ("requested_by=employer", 0), ("status=awaiting_counterparty", 1),
                         ("status=school_review", 0), ("initiator=employer", 1), ("initiator=graduate", 0),
                         (f"department={s.math}", 0), ("q=20261055831000001", 1), ("q=广州示例", 1),
                         ("q=深圳示例", 0), ("q=S000001", 1), ("q=学生2", 0), ("education_level=11", 0)):
        assert s.get(f"/lists/terminations?{query}")["total"] == total, query
    assert s.client.get("/lists/terminations?status=invited", headers=s.school).status_code == 422


def test_destination_rows_and_the_category_filter(s):
    body = s.get("/lists/destinations")
    assert body["total"] == 1  # 学生6's draft is not registered yet
    row = body["items"][0]
    assert (row["id"], row["graduate_id"], row["name"], row["department_name"]) == (s.d2, s.g2, "学生2", "数学学院")
    assert (row["destination_code"], row["destination_label"], row["status_label"]) == (
        "502", "国家基层项目—三支一扶", "待院系审核")
    assert row["unit_name"] == DESTINATION_UNIT["unit_name"] and row["identity_number"] == MASKED
    assert s.get(f"/graduates/{s.g2}/destination")
    for query, total in (("destination_code=50", 1), ("destination_code=502", 1), ("destination_code=503", 0),
                         ("destination_code=70", 0), ("status=department_review", 1), ("status=approved", 0),
                         ("q=广州示例", 1), ("q=学生2", 1), ("q=26440100000002", 1), ("q=学生6", 0),
                         (f"department={s.cs}", 0), ("graduation_year=2025", 0)):
        assert s.get(f"/lists/destinations?{query}")["total"] == total, query
    for bad in ("destination_code=999", "status=draft", "initiator=graduate&status=lost", "sort=number"):
        assert s.client.get(f"/lists/destinations?{bad}", headers=s.school).status_code == 422, bad


# --- filters, search, sorting, pages -------------------------------------------------------------


def test_filters_and_search_on_each_field(s):
    online = "/lists/online-signing?sort=name&order=asc&"
    assert s.names(f"{online}department={s.math}") == ["学生2", "学生4"]
    assert s.names(f"{online}major=数学") == ["学生3"]
    assert s.names(f"{online}major=070101") == ["学生3"]
    assert s.names(f"{online}education_level=11") == ["学生3"]
    assert s.names(f"{online}status=declined") == ["学生2"]
    assert s.names(f"{online}initiator=graduate") == ["学生4"]
    assert s.names(f"{online}initiator=employer") == ["学生1", "学生2", "学生3"]
    assert s.names(f"{online}graduation_year=2026") == ["学生1", "学生2", "学生3", "学生4"]
    assert s.names("/lists/supplementary?graduation_year=2025") == ["学生5"]
    assert s.names("/lists/supplementary?initiator=graduate&sort=name&order=asc") == ["学生5"]
    number = s.get(f"/agreements/{s.a3}")["number"]
    for q, expected in (("学生2", ["学生2"]), ("26440100000003", ["学生3"]), ("S000001", ["学生1"]),
                        (number, ["学生3"]), ("深圳示例", ["学生2"]), ("广州示例", ["学生1", "学生3"]),
                        ("佛山示例", ["学生4"]), ("nobody", []),
                        # letters in either case, on every database (PostgreSQL's LIKE is case-sensitive)
                        ("s000001", ["学生1"]), ("s00000", ["学生1", "学生2", "学生3", "学生4"])):
        assert s.names(f"{online}q={q}") == expected, q
    assert s.names("/lists/supplementary?q=佛山示例&sort=name&order=asc") == ["学生5"]
    for bad in ("status=lost", "sort=password", "order=up", "initiator=school", "graduation_year=x",
                "mode=online"):
        response = s.client.get(f"/lists/online-signing?{bad}", headers=s.school)
        assert response.status_code == (200 if bad == "mode=online" else 422), bad  # unknown args are ignored


def test_a_short_search_finds_names_holding_it_and_codes_equal_to_it(s):
    online = "/lists/online-signing?sort=name&order=asc&"
    # two characters of every unit's name: each agreement's unit holds them
    assert s.names(f"{online}q=示例") == ["学生1", "学生2", "学生3", "学生4"]
    assert s.names(f"{online}q=生3") == ["学生3"]                    # and of a graduate's name
    # two characters inside every 考生号 and 协议编号: a code must equal so short a query
    assert s.names(f"{online}q=26") == [] and s.names(f"{online}q=S0") == []
    assert s.names("/lists/destinations?q=示例") == ["学生2"]
    assert s.names("/lists/terminations?q=广州") == ["学生1"]


def test_on_postgresql_each_searched_column_is_read_through_its_index(s, service):
    """The search is a SELECT per column, each of which must find its rows through that column's
    index: an expression that drifted from its index's would still answer, by reading every row."""
    from sqlalchemy import text

    from quxiang.common.db import page_params
    from quxiang.signing.adapters import signing_lists
    from quxiang.signing.adapters.destination_tables import DESTINATION_UNIT_INDEX
    from quxiang.signing.adapters.signing_lists import Kind, ListFilter
    from quxiang.signing.adapters.tables import SEARCH_INDEXES, TERMINATIONS_GRADUATE_INDEX

    if service.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no GIN indexes")
    expected = {Kind.ONLINE: {*SEARCH_INDEXES["graduates"], *SEARCH_INDEXES["agreements"]},
                # the graduates found, to their terminations
                Kind.TERMINATIONS: {*SEARCH_INDEXES["graduates"], *SEARCH_INDEXES["agreements"],
                                    TERMINATIONS_GRADUATE_INDEX},
                Kind.DESTINATIONS: {*SEARCH_INDEXES["graduates"], DESTINATION_UNIT_INDEX}}
    with service.engine.connect() as conn:
        # A handful of rows: left to itself the planner would read them all, whatever the indexes.
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        conn.execute(text("SET LOCAL enable_indexscan = off"))
        for kind, indexes in expected.items():
            for q in ("学生1", "S0"):  # contained, and equal (shorter than three)
                statements, params = signing_lists._shaped(ListFilter(kind=kind, province="44", q=q))
                compiled = statements.page.compile(service.engine)
                plan = "\n".join(conn.exec_driver_sql(
                    "EXPLAIN " + str(compiled), {**compiled.params, **params, **page_params(0, 20)}).scalars())
                assert all(index in plan for index in indexes), (kind, q, plan)


def test_on_postgresql_the_default_order_reads_the_province_or_the_schools_recent_index(s, service):
    """Newest first, a province's page walks its table's index in that order and a school's (or a
    department's) its school's slice of the school's index: walking the whole table's index for a
    school with few rows read every row of the table (100 ms at 132,000 agreements)."""
    from sqlalchemy import text

    from quxiang.common.db import page_params
    from quxiang.signing.adapters import signing_lists
    from quxiang.signing.adapters.destination_tables import DESTINATIONS_RECENT_INDEXES
    from quxiang.signing.adapters.signing_lists import Kind, ListFilter
    from quxiang.signing.adapters.tables import RECENT_INDEXES

    if service.engine.dialect.name != "postgresql":
        pytest.skip("a plan is PostgreSQL's")
    indexes = {Kind.ONLINE: RECENT_INDEXES["agreements"], Kind.TERMINATIONS: RECENT_INDEXES["terminations"],
               Kind.DESTINATIONS: DESTINATIONS_RECENT_INDEXES}
    with service.engine.connect() as conn:
        # A handful of rows: left to itself the planner would sort them; it may not here.
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        conn.execute(text("SET LOCAL enable_sort = off"))
        conn.execute(text("SET LOCAL enable_incremental_sort = off"))
        for kind, (province_index, school_index) in indexes.items():
            for scope, index in (({"province": "44"}, province_index), ({"school_code": "10558"}, school_index),
                                 ({"school_code": "10558", "department_id": s.cs}, school_index)):
                statements, params = signing_lists._shaped(ListFilter(kind=kind, **scope))
                compiled = statements.page.compile(service.engine)
                plan = "\n".join(conn.exec_driver_sql(
                    "EXPLAIN " + str(compiled), {**compiled.params, **params, **page_params(0, 20)}).scalars())
                assert index in plan, (kind, scope, plan)


def test_a_list_statement_is_built_once_per_shape_and_run_with_each_values(s):
    from quxiang.signing.adapters import signing_lists

    signing_lists._statements.cache_clear()
    online = "/lists/online-signing?sort=name&order=asc&"
    for q, expected in (("学生1", ["学生1"]), ("学生3", ["学生3"]), ("深圳示例", ["学生2"]), ("nobody", [])):
        assert s.names(f"{online}q={q}") == expected, q
    for page, expected in ((1, ["学生1"]), (3, ["学生3"]), (2, ["学生2"])):
        assert s.names(f"{online}page_size=1&page={page}") == expected, page
    assert s.names(f"{online}q=学生&department={s.math}") == ["学生2", "学生4"]
    assert s.names(f"{online}q=学生&department={s.cs}") == ["学生1", "学生3"]
    # shapes: q; no filter; q and department
    assert signing_lists._statements.cache_info().misses == 3


def test_sorting_with_a_unique_tie_breaker(s):
    assert s.names("/lists/online-signing?sort=name&order=asc") == ["学生1", "学生2", "学生3", "学生4"]
    assert s.names("/lists/online-signing?sort=name&order=desc") == ["学生4", "学生3", "学生2", "学生1"]
    # 学生3's number has level 11: 20261055811000001 < 20261055831000001 < ...002 < ...003 (学生4's)
    assert s.names("/lists/online-signing?sort=number&order=asc") == ["学生3", "学生1", "学生2", "学生4"]
    assert s.names("/lists/online-signing?sort=number&order=desc") == ["学生4", "学生2", "学生1", "学生3"]
    # rows of one initiator: the number breaks the tie, ascending whatever the order
    assert s.names("/lists/online-signing?sort=initiator&order=asc") == ["学生3", "学生1", "学生2", "学生4"]
    assert s.names("/lists/online-signing?sort=initiator&order=desc") == ["学生4", "学生3", "学生1", "学生2"]
    assert s.names("/lists/online-signing?sort=status&order=asc") == ["学生4", "学生1", "学生2", "学生3"]
    assert s.names("/lists/online-signing?sort=department&order=desc&page_size=1") == ["学生2"]
    assert s.names("/lists/online-signing?sort=flow&order=asc") == ["学生4", "学生3", "学生1", "学生2"]
    assert s.names("/lists/online-signing?sort=flow&order=desc") == ["学生3", "学生1", "学生2", "学生4"]


def test_rows_without_the_sort_key_come_last_in_either_order(s, world):
    # A graduate without 学号 (the guide's lists show "--") sorts after the others on every database:
    # SQLite puts NULL first, PostgreSQL last, unless the statement says.
    g8 = world.graduate(8, s.cs, student_number=None)
    s.invite(s.e2, 8)
    for order, expected in (("asc", ["学生1", "学生2", "学生3", "学生4", "学生8"]),
                            ("desc", ["学生4", "学生3", "学生2", "学生1", "学生8"])):
        path = f"/lists/online-signing?sort=student_number&order={order}"
        assert s.names(path) == expected, order
        paged = [name for page in (1, 2, 3) for name in s.names(f"{path}&page_size=2&page={page}")]
        assert paged == expected, order
    assert g8


def test_pages_and_the_cap(s):
    first = s.get("/lists/online-signing?sort=name&order=asc&page=1&page_size=2")
    second = s.get("/lists/online-signing?sort=name&order=asc&page=2&page_size=2")
    assert [i["name"] for i in first["items"]] == ["学生1", "学生2"] and first["pages"] == 2
    third = s.get("/lists/online-signing?sort=name&order=asc&page=3&page_size=2")
    assert [i["name"] for i in second["items"]] == ["学生3", "学生4"] and second["total"] == 4
    assert third["items"] == [] and third["total"] == 4
    capped = s.get("/lists/online-signing?page_size=5000")
    assert capped["page_size"] == 100 and len(capped["items"]) == 4
    assert s.client.get("/lists/online-signing?page=0", headers=s.school).status_code == 422
    # the last page number allowed fits the database's OFFSET (PostgreSQL's is 32-bit); beyond it, 422
    from quxiang.common.paging import MAX_PAGE

    for path in ("/lists/online-signing", "/agreements"):
        last = s.get(f"{path}?page={MAX_PAGE}&page_size=100")
        assert last["items"] == [] and last["total"] >= 1 and last["page"] == MAX_PAGE, path
        for page in (MAX_PAGE + 1, 209356977686):
            assert s.client.get(f"{path}?page={page}", headers=s.school).status_code == 422, (path, page)


# --- scope and permissions -----------------------------------------------------------------------


def test_scope_of_every_role(s, world):
    def total(path, headers):
        return s.get(path, headers)["total"]

    province = world.headers(Role.PROVINCE, province="44")
    assert total("/lists/online-signing", province) == 5
    assert s.names("/lists/online-signing?school=10561", province) == ["学生7"]
    assert total("/lists/terminations", province) == 1 and total("/lists/destinations", province) == 1
    for path in ("/lists/online-signing", "/lists/supplementary", "/lists/terminations", "/lists/destinations"):
        assert total(path, world.headers(Role.PROVINCE, province="11")) == 0, path
    assert total("/lists/online-signing", s.school) == 4
    assert s.names("/lists/online-signing", s.other) == ["学生7"]
    assert total("/lists/supplementary", s.other) == 0 and total("/lists/destinations", s.other) == 0
    assert s.client.get("/lists/online-signing?school=10558", headers=s.other).status_code == 403
    assert s.client.get("/lists/terminations?school=10561", headers=s.school).status_code == 403
    assert s.names("/lists/online-signing?sort=name&order=asc", s.department) == ["学生1", "学生3"]
    math = world.department_user(s.math)
    assert sorted(s.names("/lists/online-signing", math)) == ["学生2", "学生4"]
    assert s.names("/lists/supplementary", math) == [] and s.names("/lists/destinations", math) == ["学生2"]
    assert total("/lists/terminations", math) == 0
    assert s.client.get(f"/lists/online-signing?department={s.cs}", headers=math).status_code == 403
    for path in ("/lists/online-signing", "/lists/supplementary", "/lists/terminations", "/lists/destinations"):
        for refused in (world.graduate_user(s.g1), world.employer_user(s.e1), world.school_user(access=Access.NONE),
                        world.department_user(s.cs, access=Access.NONE)):
            assert s.client.get(path, headers=refused).status_code == 403, path
            assert s.client.get(f"{path}/export.xlsx", headers=refused).status_code == 403, path
    # the caller's own agreements stay where they were
    assert s.get("/agreements", world.employer_user(s.e1))["total"] == 3
    assert s.get("/agreements", world.graduate_user(s.g1))["total"] == 1


def test_read_only_lists_and_downloads(s, world):
    # 只读: "只能查看、下载" (the guide's 表1); issue 5 is silent on exports, so the spec holds here.
    for headers in (world.school_user(access=Access.READ), world.department_user(s.cs, access=Access.READ)):
        for path in ("/lists/online-signing", "/lists/supplementary", "/lists/terminations", "/lists/destinations"):
            assert s.client.get(path, headers=headers).status_code == 200, path
            assert s.client.get(f"{path}/export.xlsx", headers=headers).status_code == 200, path
    assert s.client.get("/lists/online-signing/export.xlsx", headers=s.department).status_code == 200
    assert s.client.get("/lists/destinations/export.xlsx",
                        headers=world.headers(Role.PROVINCE, province="44")).status_code == 200


# --- exports -------------------------------------------------------------------------------------


def sheet_rows(s, path, headers=None):
    response = s.client.get(path, headers=headers or s.school)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return [list(r) for r in load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True)]


def test_export_is_the_filtered_list_masked(s, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    rows = sheet_rows(s, f"/lists/online-signing/export.xlsx?department={s.cs}&sort=name&order=asc&page_size=1")
    assert rows[0] == ["签约发起方", "签约方式", "姓名", "院校", "院系", "专业", "学历", "毕业年份", "身份证号",
                       "当前协议编号", "签约单位", "学号", "签约状态", "提交时间", "更新时间"]
    assert [r[:13] for r in rows[1:]] == [
        ["单位", "在线签约", "学生1", "中山大学", "计算机学院", "计算机科学与技术", "本科生毕业", 2026, MASKED,
         "20261055831000001", "广州示例信息科技有限公司", "S000001", "签约审核通过"],
        ["单位", "在线签约", "学生3", "中山大学", "计算机学院", "数学与应用数学", "硕士生毕业", 2026, MASKED,
         "20261055811000001", "广州示例信息科技有限公司", "S000003", "已发出签约邀请 待学生应约"]]
    # times as China's clock shows them, to the second (the list answers UTC instants)
    listed = {i["name"]: i for i in s.get("/lists/online-signing")["items"]}
    for row in rows[1:]:
        instant = datetime.fromisoformat(listed[row[2]]["created_at"])
        assert row[13] == instant.astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S")
        assert len(row[14]) == 19
    assert list(tmp_path.glob("qx-export-*")) == []  # the temporary file was removed once streamed
    assert len(sheet_rows(s, "/lists/online-signing/export.xlsx")) == 5
    province = s.world.headers(Role.PROVINCE, province="44")
    assert len(sheet_rows(s, "/lists/online-signing/export.xlsx", province)) == 6
    assert sheet_rows(s, "/lists/online-signing/export.xlsx?q=nobody")[1:] == []


def test_exports_of_the_other_lists(s):
    supplementary = sheet_rows(s, "/lists/supplementary/export.xlsx")
    assert supplementary[0][:2] == ["签约发起方", "姓名"] and len(supplementary) == 2
    assert supplementary[1][:2] == ["学生", "学生5"] and MASKED in supplementary[1]
    terminations = sheet_rows(s, "/lists/terminations/export.xlsx")
    assert terminations[0][-5:] == ["解约方式", "解约申请方", "解约状态", "提交时间", "更新时间"]
    assert terminations[1][:2] == ["单位", "学生1"]
    assert terminations[1][-5:-2] == ["线上解约", "学生", "解约申请 待对方确认"]
    destinations = sheet_rows(s, "/lists/destinations/export.xlsx?destination_code=50")
    assert destinations[0] == ["姓名", "院校", "院系", "专业", "学历", "毕业年份", "身份证号", "学号", "毕业去向类别",
                               "单位（院校）名称", "登记状态", "提交时间", "更新时间"]
    assert destinations[1][:11] == ["学生2", "中山大学", "数学学院", "计算机科学与技术", "本科生毕业", 2026, MASKED,
                                    "S000002", "国家基层项目—三支一扶", DESTINATION_UNIT["unit_name"], "待院系审核"]
    assert len(destinations) == 2
    assert sheet_rows(s, "/lists/destinations/export.xlsx?destination_code=80")[1:] == []


def test_a_graduate_deferred_to_next_year_is_listed_there_with_the_agreements_and_termination(s, world):
    online = "/lists/online-signing?"
    world.graduate(1, s.cs, graduate_id=s.g1, sequence=2, graduation_year=2027)  # the roster re-imported
    assert s.names(f"{online}graduation_year=2027") == ["学生1"]
    assert sorted(s.names(f"{online}graduation_year=2026")) == ["学生2", "学生3", "学生4"]
    assert s.names("/lists/terminations?graduation_year=2027") == ["学生1"]
    assert s.names("/lists/terminations?graduation_year=2026") == []


def test_an_instant_carries_its_zone_in_the_list_as_in_the_detail(s, world):
    # SQLite gives back naive values: a list that printed them raw sent a time 8 hours off to a
    # client reading it as local time.
    listed = {i["id"]: i["respond_by"] for i in s.get("/agreements", world.employer_user(s.e1))["items"]}
    assert listed[s.a3] == s.get(f"/agreements/{s.a3}")["respond_by"]
    assert listed[s.a3].endswith("+00:00")


def test_an_export_over_the_limit_is_refused_at_once_with_the_count(s, monkeypatch):
    from quxiang.common import spreadsheets

    monkeypatch.setattr(spreadsheets, "MAX_EXPORT_ROWS", 0)
    refused = s.client.get("/lists/supplementary/export.xlsx", headers=s.school)
    body = refused.get_json()
    assert refused.status_code == 422 and body["code"] == "export_too_large", body
    assert (body["total"], body["limit"]) == (1, 0)
