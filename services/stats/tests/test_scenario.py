"""Counts after a scripted scenario, through the consumer handlers and the API."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from .scenario import CS, EXPECTED_PROVINCE, EXPECTED_ZSU_DEPARTMENTS, LAW, SCUT, ZSU, events

MODULES = ("employment", "archive", "hukou")


def _figures(item):
    return {m: item[m] for m in MODULES}


def test_province_view_counts_the_scenario(world, client):
    world.deliver(*events())
    response = client.get("/province", headers=world.province_user())
    assert response.status_code == 200, response.json
    body = response.json
    assert [i["school_code"] for i in body["items"]] == [ZSU, SCUT]
    by_code = {i["school_code"]: i for i in body["items"]}
    for code in (ZSU, SCUT):
        assert _figures(by_code[code]) == EXPECTED_PROVINCE[code], code
    assert _figures(body["total"]) == EXPECTED_PROVINCE["total"]
    assert body["total"]["school_name"] == "总计"  # the guide's 图8
    zsu = by_code[ZSU]
    assert zsu["agreement_type"] == "two_party" and zsu["agreement_type_label"] == "两方协议"
    assert zsu["settings_completed"] == {"employment": True, "archive": True, "hukou": False}
    assert by_code[SCUT]["agreement_type"] == "three_party"
    assert body["modules_enabled"] == {"employment": True, "archive": True, "hukou": False}
    for item in [*body["items"], body["total"]]:
        for m in MODULES:
            f = item[m]
            assert f["registered"] + f["review"] + f["unregistered"] == f["total"]


def test_filters_by_graduation_year_and_education_level(world, client):
    world.deliver(*events())
    body = client.get("/province?graduation_year=2025", headers=world.province_user()).json
    assert body["total"]["employment"] == {"total": 1, "registered": 1, "review": 0, "unregistered": 0}
    body = client.get("/province?education_level=11", headers=world.province_user()).json
    zsu = {i["school_code"]: i for i in body["items"]}[ZSU]
    assert zsu["employment"] == {"total": 1, "registered": 1, "review": 0, "unregistered": 0}
    assert body["total"]["employment"]["total"] == 1


def test_a_statement_is_built_once_per_filter_set_and_run_with_each_values(world, client):
    from quxiang.stats.adapters import queries

    world.deliver(*events())
    whole = client.get("/province", headers=world.province_user()).json["total"]["employment"]["total"]
    queries._province_rows.cache_clear()
    by_year = {year: client.get(f"/province?graduation_year={year}", headers=world.province_user()).json
               for year in (2024, 2025, 2026)}
    assert by_year[2025]["total"]["employment"]["total"] == 1 and by_year[2024]["total"]["employment"]["total"] == 0
    assert sum(body["total"]["employment"]["total"] for body in by_year.values()) == whole
    schools = [sum(i["employment"]["total"] for i in body["items"]) for body in by_year.values()]
    assert schools == [body["total"]["employment"]["total"] for body in by_year.values()]
    assert queries._province_rows.cache_info().misses == 1


def test_school_view_has_a_row_per_department(world, client):
    world.deliver(*events())
    body = client.get(f"/schools/{ZSU}", headers=world.school_user(ZSU)).json
    rows = {i["department_id"]: i for i in body["items"]}
    assert [i["department_name"] for i in body["items"]] == ["计算机学院", "法学院"]
    for department, expected in EXPECTED_ZSU_DEPARTMENTS.items():
        assert _figures(rows[department]) == expected
    assert _figures(body["total"]) == EXPECTED_PROVINCE[ZSU]
    narrowed = client.get(f"/schools/{ZSU}?department={LAW}", headers=world.school_user(ZSU)).json
    assert [i["department_id"] for i in narrowed["items"]] == [LAW]
    assert _figures(narrowed["total"]) == EXPECTED_ZSU_DEPARTMENTS[LAW]


def test_destination_breakdown_and_placement_rate(world, client):
    world.deliver(*events())
    body = client.get("/destinations", headers=world.province_user()).json
    counts = {c["code"]: c["count"] for c in body["categories"]}
    assert body["total"] == 11 and body["registered"] == 5
    assert counts["10"] == 2 and counts["80"] == 1 and counts["70"] == 1
    assert counts["271"] == 1 and counts["27"] == 1  # the parent includes its sub-category
    assert counts["75"] == 0 and counts["11"] == 0
    groups = {g["group"]: g["count"] for g in body["groups"]}
    assert groups == {"employed_at_unit": 3, "not_at_unit": 1, "not_placed": 1}
    placement = body["placement"]
    assert placement["count"] == 4 and placement["rate"] == round(4 / 11, 4)
    parts = {p["bucket"]: (p["name"], p["count"]) for p in placement["parts"]}
    assert parts == {"unit_employment": ("单位就业率", 3), "entrepreneurship": ("自主创业率", 0),
                     "freelance": ("自由职业率", 0), "further_study": ("升学率", 1)}
    cs = client.get(f"/destinations?school={ZSU}&department={CS}", headers=world.province_user()).json
    assert cs["total"] == 4 and {c["code"]: c["count"] for c in cs["categories"] if c["count"]} == {
        "10": 1, "80": 1, "70": 1}
    law = client.get("/destinations?education_level=11", headers=world.province_user()).json
    assert law["placement"]["count"] == 1 and law["total"] == 1


def test_exports_are_workbooks_with_the_total_row(world, client):
    world.deliver(*events())
    response = client.get("/province/export.xlsx", headers=world.province_user())
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("学校代码", "学校名称", "网签协议类型")
    # 总人数, 已登记, 未登记, 审核中: the guide's order
    assert rows[1][6:10] == ("总人数", "已登记", "未登记", "审核中")
    assert rows[2][0] == ZSU and rows[2][6:10] == (8, 4, 2, 2)
    assert rows[-1][1] == "总计" and rows[-1][6:10] == (11, 5, 4, 2)
    assert sheet.title == "数据统计 全部届别" and "stats-44-all-years.xlsx" in response.headers["Content-Disposition"]
    response = client.get(f"/schools/{ZSU}/export.xlsx", headers=world.school_user(ZSU))
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][0].endswith("（全部届别）")
    assert rows[3][1] == "计算机学院" and rows[3][2:6] == (4, 3, 0, 1)
    assert rows[-1][1] == "合计" and rows[-1][2:6] == (8, 4, 2, 2)


def test_an_export_says_which_cohort_it_holds(world, client):
    """Two cohorts live side by side each autumn: the sheet and the file name say which one."""
    world.deliver(*events())
    response = client.get("/province/export.xlsx?graduation_year=2026&education_level=31",
                          headers=world.province_user())
    assert "stats-44-2026-31.xlsx" in response.headers["Content-Disposition"]
    assert load_workbook(io.BytesIO(response.data)).active.title == "数据统计 2026届 本科生毕业"
    response = client.get(f"/schools/{ZSU}/export.xlsx?graduation_year=2027", headers=world.school_user(ZSU))
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "院系统计 2027届" and rows[0][0].endswith("（2027届）")
    assert rows[-1][1] == "合计" and rows[-1][2:6] == (0, 0, 0, 0)  # none of 2027 yet


def test_names_users_typed_are_text_in_the_exports_never_formulas(world, client):
    from .stats_events import department_created, roster, school_created
    world.deliver(school_created("10599", "=1+2"), department_created("d-evil", "10599", "01", '=HYPERLINK("http://x","点")'),
                  roster("g-evil", "10599", "d-evil"))
    for path, headers in (("/schools/10599/export.xlsx", world.school_user("10599")),
                          ("/province/export.xlsx", world.province_user())):
        sheet = load_workbook(io.BytesIO(client.get(path, headers=headers).data)).active
        typed = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
        assert typed and all(c.data_type == "s" for c in typed), path


def test_a_change_moves_the_counters_at_once(world, client):
    """Freshness: what a handler applied is in the next answer; the lag is a metric."""
    world.deliver(*events())
    from .scenario import gid
    from .stats_events import A, agreement
    world.deliver(agreement(A.AGREEMENT_APPROVED, "agr-late", 4, "approved", gid("h2"), SCUT))
    body = client.get("/province", headers=world.province_user()).json
    scut = {i["school_code"]: i for i in body["items"]}[SCUT]
    assert scut["employment"]["registered"] == 2
    metrics = client.get("/metrics").data.decode()
    assert "qx_stats_lag_seconds" in metrics and "qx_stats_event_lag_seconds_bucket" in metrics


def test_each_module_figures_follow_that_modules_permission(world, client):
    # The default of a school account that existed before: employment 读写, archive and hukou 无权限.
    from quxiang.common.auth.principal import Access

    world.deliver(*events())
    default = world.school_user(ZSU, access=Access.WRITE, archive=Access.NONE, hukou=Access.NONE)
    body = client.get(f"/schools/{ZSU}", headers=default).json
    assert body["modules"] == ["employment"]
    assert set(body["settings_completed"]) == {"employment"}
    for item in [*body["items"], body["total"]]:
        assert "employment" in item and "archive" not in item and "hukou" not in item
    sheet = load_workbook(io.BytesIO(client.get(f"/schools/{ZSU}/export.xlsx", headers=default).data)).active
    text = [str(c) for r in sheet.iter_rows(values_only=True) for c in r if c is not None]
    assert "档案信息登记" not in " ".join(text) and "户口信息登记" not in " ".join(text)
    # an archive-only account sees its own module's statistics (档案信息登记统计), not employment's
    archive_only = world.school_user(ZSU, access=Access.NONE, archive=Access.READ, hukou=Access.NONE)
    body = client.get(f"/schools/{ZSU}", headers=archive_only).json
    assert body["modules"] == ["archive"] and set(body["total"]) >= {"archive"} and "employment" not in body["total"]
    assert client.get("/destinations", headers=archive_only).status_code == 403  # destinations: employment data
    nothing = world.school_user(ZSU, access=Access.NONE)
    refused = client.get(f"/schools/{ZSU}", headers=nothing)
    assert refused.status_code == 403 and refused.json["code"] == "module_forbidden"
    department = world.department_user(ZSU, CS, archive=Access.NONE)
    assert client.get(f"/schools/{ZSU}", headers=department).json["modules"] == ["employment", "hukou"]
