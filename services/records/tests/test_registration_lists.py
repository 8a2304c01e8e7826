"""The archive and hukou lists (图7) and their export: scope, filters, search, sorting, pages,
masking, and the permission each needs."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from quxiang.common.auth.principal import Access

from .roster_data import csv_file, identity, row, upload
from .test_registrations import ARCHIVE, Scenario


@pytest.fixture
def s(client, world):
    scenario = Scenario(client, world)
    scenario.open(department_review=False)
    scenario.submit(scenario.g1)
    scenario.review(scenario.g1, scenario.school())                       # approved
    scenario.submit(scenario.g3, data={"transfer_type": "retained"})      # school_review
    return scenario                                                       # g2: nothing yet


def items(s, headers, query=""):
    response = s.client.get(f"/archive/registrations{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_list_shows_every_graduate_masked(s):
    body = items(s, s.school())
    assert body["total"] == 3
    by_exam = {i["exam_number"]: i for i in body["items"]}
    first = by_exam[row(1)["考生号"]]
    assert first["status"] == "approved" and first["transfer_type_label"] == "签约单位接收"
    assert first["address"] == ARCHIVE["address"] and first["school_name"] == "中山大学"
    assert first["department_name"] == "计算机学院" and first["transfer_number"]
    assert by_exam[row(2)["考生号"]]["status"] == "none"
    assert by_exam[row(2)["考生号"]]["status_label"] == "未填写"
    masked = first["identity_number"]
    assert masked[:3] == identity(1)[:3] and masked[-4:] == identity(1)[-4:] and "*" * 11 in masked
    text = str(body)
    assert all(identity(i) not in text for i in (1, 2, 3))


def test_filters_search_and_sorting(s):
    headers = s.school()
    assert [i["name"] for i in items(s, headers, "?status=none")["items"]] == ["学生2"]
    assert [i["name"] for i in items(s, headers, "?status=school_review")["items"]] == ["学生3"]
    assert [i["name"] for i in items(s, headers, "?transfer_type=retained")["items"]] == ["学生3"]
    assert [i["name"] for i in items(s, headers, f"?department={s.math}")["items"]] == ["学生3"]
    assert [i["name"] for i in items(s, headers, "?q=学生2")["items"]] == ["学生2"]
    assert [i["name"] for i in items(s, headers, "?q=S000003")["items"]] == ["学生3"]
    found = s.client.post("/archive/registrations/search", json={"q": identity(1)}, headers=headers)
    assert [i["name"] for i in found.get_json()["items"]] == ["学生1"]  # by identity number: in the body only
    assert items(s, headers, "?origin_region=440000")["total"] == 3
    assert {i["origin_region_label"] for i in items(s, headers, "")["items"]} == {"440106 广东省"}  # 图7 shows a place
    assert items(s, headers, "?origin_region=110000")["total"] == 0
    assert items(s, headers, "?major=计算机")["total"] == 3
    descending = [i["name"] for i in items(s, headers, "?sort=name&order=desc")["items"]]
    assert descending == ["学生3", "学生2", "学生1"]
    page = items(s, headers, "?page=2&page_size=2")
    assert len(page["items"]) == 1 and page["pages"] == 2
    assert items(s, headers, "?page_size=5000")["page_size"] == 100
    assert s.client.get("/archive/registrations?sort=password", headers=headers).status_code == 422
    assert s.client.get("/archive/registrations?status=lost", headers=headers).status_code == 422


def test_a_list_statement_is_built_once_per_shape_and_run_with_each_values(s):
    from quxiang.records.adapters import registration_lists

    registration_lists._statements.cache_clear()
    headers = s.school()
    for region, total in (("440106", 3), ("440105", 0), ("4401", 3), ("440100", 3), ("4402", 0)):
        assert items(s, headers, f"?origin_region={region}")["total"] == total, region
    for status, names in (("approved", ["学生1"]), ("school_review", ["学生3"]), ("none", ["学生2"]),
                          ("school_rejected", [])):
        assert [i["name"] for i in items(s, headers, f"?status={status}")["items"]] == names, status
    for q, names in (("学生1", ["学生1"]), (identity(3), ["学生3"]), ("S000002", ["学生2"]), (identity(2), ["学生2"])):
        found = s.client.post("/archive/registrations/search", json={"q": q}, headers=headers).get_json()
        assert [i["name"] for i in found["items"]] == names, q
    assert items_of(s, "/hukou/registrations?status=none", headers)["total"] == 3  # the module is a value too
    # shapes: an exact region; a region prefix; a status; no registration; text; identity hashes
    assert registration_lists._statements.cache_info().misses == 6


def test_scope_of_each_role(s, world):
    assert items(s, s.department(s.cs))["total"] == 2
    assert {i["name"] for i in items(s, s.department(s.math))["items"]} == {"学生3"}
    assert s.client.get(f"/archive/registrations?department={s.cs}",
                        headers=s.department(s.math)).status_code == 403
    assert items(s, s.province())["total"] == 3
    assert items(s, s.province("11"))["total"] == 0
    world.school("10561", "华南理工大学")
    assert items(s, s.school(school="10561"))["total"] == 0
    assert s.client.get("/archive/registrations?school=10558", headers=s.school(school="10561")).status_code == 403
    assert s.client.get("/archive/registrations", headers=s.school(archive=Access.NONE)).status_code == 403
    assert s.client.get("/archive/registrations", headers=s.graduate(s.g1)).status_code == 403
    # the hukou list is a module of its own, with its own permission
    assert s.client.get("/hukou/registrations", headers=s.school(hukou=Access.NONE)).status_code == 403
    assert items_of(s, "/hukou/registrations", s.school())["items"][0]["status"] == "none"


def items_of(s, path, headers):
    response = s.client.get(path, headers=headers)
    assert response.status_code == 200
    return response.get_json()


def test_export_is_the_filtered_list_masked(s):
    response = s.client.get("/archive/registrations/export.xlsx?status=approved", headers=s.school())
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("考生号", "姓名", "院校") and "档案转寄类型" in rows[0]
    assert len(rows) == 2 and rows[1][0] == row(1)["考生号"]
    header = rows[0]
    assert rows[1][header.index("状态")] == "审核通过"
    assert rows[1][header.index("毕业年份")] == 2026  # two cohorts live side by side each autumn
    listed = s.client.get("/archive/registrations?status=approved", headers=s.school()).get_json()["items"]
    assert [(i["exam_number"], i["graduation_year"]) for i in listed] == [(row(1)["考生号"], 2026)]
    assert rows[1][header.index("身份证号")].startswith(identity(1)[:3]) and "*" in rows[1][header.index("身份证号")]
    everything = load_workbook(io.BytesIO(s.client.get("/archive/registrations/export.xlsx",
                                                       headers=s.province()).get_data())).active
    cells = [str(c) for r in everything.iter_rows(values_only=True) for c in r]
    assert len(list(everything.iter_rows())) == 4
    assert all(identity(i) not in cells for i in (1, 2, 3))


def test_export_needs_read_write(s):
    assert s.client.get("/archive/registrations/export.xlsx", headers=s.school(archive=Access.READ)).status_code == 403
    assert s.client.get("/archive/registrations/export.xlsx", headers=s.department(s.cs)).status_code == 200


def test_search_ignores_letter_case_on_every_database(s):
    # PostgreSQL's LIKE is case-sensitive where SQLite's is not: both search as SQLite did.
    headers = s.school()
    assert [i["name"] for i in items(s, headers, "?q=s000003")["items"]] == ["学生3"]
    assert items(s, headers, "?q=s00000")["total"] == 3


def test_rows_without_the_sort_key_come_last_in_either_order(s):
    # 学生2 has no registration: no transfer type, no update time; last whichever the order. A
    # province's list by 更新时间 is found in two parts (registration_lists._APART), a school's not.
    for headers, key in ((s.school(), "transfer_type"), (s.school(), "updated_at"), (s.province(), "updated_at")):
        for order in ("asc", "desc"):
            names = [i["name"] for i in items(s, headers, f"?sort={key}&order={order}")["items"]]
            assert names[-1] == "学生2", (key, order, names)
            paged = [i["name"] for page in (1, 2, 3)
                     for i in items(s, headers, f"?sort={key}&order={order}&page_size=1&page={page}")["items"]]
            assert paged == names, (key, order)


def test_departments_sort_by_code_as_in_the_signing_lists(s):
    # 计算机学院 is 01, 数学学院 02: by name 数 (U+6570) would come before 计 (U+8BA1).
    names = [i["name"] for i in items(s, s.school(), "?sort=department&order=asc")["items"]]
    assert names == ["学生1", "学生2", "学生3"]


def sheet(s, path, headers):
    response = s.client.get(path, headers=headers)
    assert response.status_code == 200, response.get_json()
    return list(load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True))


def test_each_module_exports_its_own_columns_with_china_times(s):
    archive = sheet(s, "/archive/registrations/export.xlsx?status=approved", s.school())
    assert archive[0][10:] == ("档案转寄类型", "接收单位", "接收部门", "档案转寄地址", "邮政编码", "收件人", "联系电话",
                              "转递编号", "状态", "提交时间", "审核时间")
    listed = items(s, s.school(), "?status=approved")["items"][0]
    china = dt.timezone(dt.timedelta(hours=8))
    for header, key in (("提交时间", "submitted_at"), ("审核时间", "decided_at")):
        instant = dt.datetime.fromisoformat(listed[key])
        assert archive[1][archive[0].index(header)] == instant.astimezone(china).strftime("%Y-%m-%d %H:%M:%S")
    hukou = sheet(s, "/hukou/registrations/export.xlsx", s.school())
    # 户口迁转: a type and an address, none of the archive's recipient columns
    assert hukou[0][10:] == ("户口迁转类型", "户口迁转地址", "状态", "提交时间", "审核时间")
    assert len(hukou) == 4 and all(len(r) == 15 for r in hukou)


def test_a_change_in_review_of_an_approval_says_the_approval_stands(s):
    # The statistics count it 已登记 (the approval stands); the list and its export say why.
    assert s.submit(s.g1, data={**ARCHIVE, "address": "深圳市南山区某路9号"}).status_code == 200
    by_exam = {i["exam_number"]: i for i in items(s, s.school())["items"]}
    changed, first_time = by_exam[row(1)["考生号"]], by_exam[row(3)["考生号"]]
    assert changed["status"] == "school_review" and changed["approval_stands"] is True
    assert changed["status_label"] == "待学校审核（变更，原信息已审核通过）"
    assert first_time["status"] == "school_review" and first_time["approval_stands"] is False
    assert first_time["status_label"] == "待学校审核"
    assert by_exam[row(2)["考生号"]]["approval_stands"] is False  # nothing registered
    sheet = load_workbook(io.BytesIO(s.client.get("/archive/registrations/export.xlsx?status=school_review",
                                                  headers=s.school()).get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    status = rows[0].index("状态")
    assert sorted(r[status] for r in rows[1:]) == ["待学校审核", "待学校审核（变更，原信息已审核通过）"]


def test_a_search_finds_part_of_a_name_and_part_of_a_code_of_three_characters_or_more(s):
    rows = [row(1), row(2), row(3, 院系="02"), row(4, 姓名="欧阳娜娜"), row(5, 姓名="Ali Khan"), row(6, 学号="AB")]
    assert upload(s.client, s.world.school_user(), csv_file(rows)).status_code == 201
    headers = s.school()

    def names(q):
        found = s.client.post("/archive/registrations/search", json={"q": q}, headers=headers)
        assert found.status_code == 200, found.get_json()
        return sorted(i["name"] for i in found.get_json()["items"])

    assert names("欧阳娜娜") == names("阳娜") == names("娜") == ["欧阳娜娜"]   # any part of a name, one character on
    assert names("娜阳") == []                                                # its characters, in its order
    assert names("ali k") == names("KHAN") == ["Ali Khan"]                   # letters in either case
    assert names("学生") == ["学生1", "学生2", "学生3", "学生6"]
    assert names("000004") == names("s000004") == ["欧阳娜娜"]               # part of a 考生号 or 学号
    # Shorter than three characters, a code must be equal: two digits inside every 考生号 find none.
    assert names("00") == [] and names("ab") == ["学生6"]
    assert names("%") == names("_") == []                                     # taken literally


def test_on_postgresql_a_search_reads_its_indexes_not_every_graduate(s, service):
    """Each part of the search has an index whose expression the query must repeat exactly: one that
    drifted would still answer, by reading every graduate (1.3 s for a province of 510,000)."""
    from sqlalchemy import select, text

    from quxiang.common.db import sort_order
    from quxiang.records.adapters import registration_lists
    from quxiang.records.adapters.tables import BY_NAME_INDEX, ON_ROSTER_INDEX, SEARCH_INDEXES, graduates

    if service.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no GIN indexes: its search reads the school's graduates")

    def plan(conn, statement, params=None):
        compiled = statement.compile(service.engine)
        return "\n".join(conn.exec_driver_sql("EXPLAIN " + str(compiled), {**compiled.params, **(params or {})})
                         .scalars().all())

    with service.engine.connect() as conn:
        # Three graduates: left to itself the planner would read them all, whatever the indexes. So it
        # may not read the table, nor the roster's index (which holds every graduate on it); all is
        # rolled back at the end.
        conn.execute(text(f"DROP INDEX {ON_ROSTER_INDEX}"))
        conn.execute(text(f"DROP INDEX {BY_NAME_INDEX}"))
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        conn.execute(text("SET LOCAL enable_indexscan = off"))
        for q in ("学生1", "AB"):  # contained, and equal (shorter than three)
            params = registration_lists._params(registration_lists.ListFilter(module="archive", q=q))
            found = select(graduates.c.id).where(*registration_lists._conditions(frozenset(params)))
            searched = plan(conn, found, params)
            assert all(index in searched for index in SEARCH_INDEXES), searched
    with service.engine.connect() as conn:
        conn.execute(text(f"DROP INDEX {ON_ROSTER_INDEX}"))
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        conn.execute(text("SET LOCAL enable_bitmapscan = off"))
        by_name = (select(graduates.c.id).where(graduates.c.withdrawn_at.is_(None)).limit(20)
                   .order_by(sort_order(registration_lists.SORT_COLUMNS["name"], False, graduates),
                             graduates.c.exam_number))
        assert BY_NAME_INDEX in plan(conn, by_name)


def test_on_postgresql_the_list_by_update_time_reads_the_recent_registrations_index(s, service):
    """The list by 更新时间 finds the graduates with a registration in the index's order (0010); one
    that no longer matched would still answer, by sorting every graduate in scope (430 ms a page for
    a province of 510,000)."""
    from sqlalchemy import text

    from quxiang.common.db import page_params
    from quxiang.records.adapters import registration_lists
    from quxiang.records.adapters.tables import RECENT_INDEX

    if service.engine.dialect.name != "postgresql":
        pytest.skip("a plan is PostgreSQL's")
    for descending in (True, False):
        f = registration_lists.ListFilter(module="archive", province="44", sort="updated_at", descending=descending)
        statements, params = registration_lists._shaped(f, 0)
        compiled = statements.page.compile(service.engine)
        with service.engine.connect() as conn:
            # Three graduates: left to itself the planner would sort them; it may not here.
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            conn.execute(text("SET LOCAL enable_sort = off"))
            plan = "\n".join(conn.exec_driver_sql("EXPLAIN " + str(compiled),
                                                  {**compiled.params, **params, **page_params(0, 20)}).scalars())
        assert RECENT_INDEX in plan, plan
        assert [i["name"] for i in items(s, s.school(), f"?sort=updated_at&order={'desc' if descending else 'asc'}")
                ["items"]][-1] == "学生2"


def test_only_broad_lists_by_update_time_are_found_in_two_parts():
    """A province's list by 更新时间, whole or by the registration's status, walks the registrations in
    time order; one narrowed by school, 专业 or a search (few matches: the walk would read most of the
    province) or deep (each part reads to the page's depth) is sorted as before."""
    from quxiang.records.adapters import registration_lists as rl

    def apart(offset=0, **given):
        f = rl.ListFilter(module="archive", sort="updated_at", descending=True, **given)
        return "UNION ALL" in str(rl._shaped(f, offset)[0].page)

    assert apart(province="44") and apart(province="44", status="approved") and apart(province="44", status="none")
    assert not apart(province="44", school_code="10558") and not apart(province="44", major="软件")
    assert not apart(province="44", q="王") and not apart(province="44", education_level="31")
    assert not apart(rl._APART_DEPTH, province="44")
