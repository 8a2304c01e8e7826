from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pytest

from quxiang.common import reference
from quxiang.common.reference import (
    PLACEMENT_BUCKETS,
    CodeTable,
    DestinationCategory,
    UnknownCode,
    destination_categories,
    destination_category,
    education_levels,
    employer_natures,
    industries,
    is_valid_region,
    position_categories,
    province,
    provinces,
    region,
    transfer_types,
    validate_region_code,
)

TABLES = {
    "destination_categories": destination_categories,
    "education_levels": education_levels,
    "employer_natures": employer_natures,
    "industries": industries,
    "position_categories": position_categories,
    "provinces": provinces,
    "transfer_types_archive": lambda: transfer_types("archive"),
    "transfer_types_hukou": lambda: transfer_types("hukou"),
}

SPEC_REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "spec" / "reference"
SPEC_FILES = [
    "destination_categories.csv",
    "education_levels.csv",
    "employer_nature.csv",
    "industries.csv",
    "position_categories.csv",
    "transfer_types.csv",
]


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_table_loads_with_unique_non_empty_codes(name):
    table = TABLES[name]()
    assert isinstance(table, CodeTable)
    assert len(table) > 0
    codes = table.codes()
    assert all(code and code == code.strip() for code in codes)
    assert len(set(codes)) == len(codes)
    assert all(row.name_zh for row in table)


def test_tables_are_cached():
    assert destination_categories() is destination_categories()
    assert transfer_types("hukou") is transfer_types("hukou")


@pytest.mark.parametrize("filename", SPEC_FILES)
def test_package_data_is_a_verbatim_copy_of_the_spec(filename):
    spec = SPEC_REFERENCE / filename
    if not spec.exists():
        pytest.skip("shared/spec is not beside this checkout")
    packaged = resources.files("quxiang.common").joinpath("data", filename).read_bytes()
    assert packaged == spec.read_bytes()


def test_table_lookups():
    table = employer_natures()
    assert "31" in table
    assert "77" not in table
    assert 31 not in table  # codes are strings; an int is never silently accepted
    assert table.get("31").name_zh == "国有企业"
    assert table.get("77") is None
    assert table.get(None) is None
    assert table.label("31") == "国有企业"
    assert table.label("77", default="未知") == "未知"
    with pytest.raises(UnknownCode):
        table.label("77")
    assert table.require("31", "单位性质").name_en == "State-owned enterprise"


@pytest.mark.parametrize("bad", ["77", "", " 31", 31, None])
def test_require_names_the_field_and_the_value(bad):
    with pytest.raises(UnknownCode) as info:
        employer_natures().require(bad, "单位性质")
    err = info.value
    assert isinstance(err, ValueError)
    assert err.field == "单位性质"
    assert err.value == bad
    assert "单位性质" in str(err)
    assert repr(bad) in str(err)


def test_unknown_code_message_is_bounded():
    err = UnknownCode("单位行业", "x" * 500)
    assert len(str(err)) < 80


def test_code_table_refuses_duplicate_and_blank_codes():
    row = reference.PositionCategory("10", "公务员")
    with pytest.raises(ValueError, match="duplicate"):
        CodeTable("t", [row, row])
    with pytest.raises(ValueError, match="blank"):
        CodeTable("t", [reference.PositionCategory("", "x")])


# --- destination categories ---


def test_three_digit_destination_codes_have_their_two_digit_parent():
    table = destination_categories()
    children = [row for row in table if len(row.code) == 3]
    assert children, "the table has sub-categories"
    for row in children:
        assert row.parent_code == row.code[:2]
        assert row.parent is not None and row.parent.code in table
        assert row.top_level is row.parent
        # A sub-category counts where its parent counts, or the placement rate would differ by level.
        assert row.placement_bucket == row.parent.placement_bucket
    for row in table:
        if len(row.code) == 2:
            assert row.parent is None and row.top_level is row


def test_destination_category_lookup():
    sub = destination_category("801")
    assert isinstance(sub, DestinationCategory)
    assert sub.parent.code == "80"
    assert sub.placement_bucket == "further_study"
    assert sub.is_placed
    assert destination_category("10").requires_agreement is True
    assert destination_category("11").requires_agreement is False
    waiting = destination_category("70")
    assert waiting.placement_bucket is None and not waiting.is_placed
    with pytest.raises(UnknownCode, match="毕业去向类别"):
        destination_category("99")


def test_every_placement_bucket_is_used_and_known():
    used = {row.placement_bucket for row in destination_categories() if row.placement_bucket}
    assert used == set(PLACEMENT_BUCKETS)


# --- other tables ---


def test_industry_without_gb4754_section():
    assert industries().get("80").gb4754_section is None
    assert industries().get("34").gb4754_section == "I"


def test_transfer_types_are_told_apart_by_kind():
    archive, hukou = transfer_types("archive"), transfer_types("hukou")
    assert archive.label("origin") == "转回生源地"
    assert hukou.label("origin") == "迁回生源地"
    assert "retained" in archive and "retained" not in hukou
    assert "not_at_school" in hukou and "not_at_school" not in archive
    assert all(row.kind == "archive" for row in archive)
    assert archive.get("retained").address_required is False
    assert archive.get("custodian").address_required is True
    everything = transfer_types()
    assert isinstance(everything, tuple)
    assert len(everything) == len(archive) + len(hukou)
    with pytest.raises(UnknownCode, match="kind"):
        transfer_types("passport")  # type: ignore[call-overload]


def test_provinces():
    table = provinces()
    assert len(table) == 32  # 31 mainland provincial-level divisions and the Corps
    assert table.codes()[0] == "11" and province("11").name_zh == "北京市"
    assert province("65").name_zh == "新疆维吾尔自治区"
    corps = province("66")
    assert corps.name_zh == "新疆生产建设兵团" and not corps.in_gb2260
    assert sum(p.in_gb2260 for p in table) == 31
    assert {p.kind for p in table} == {"municipality", "province", "autonomous_region", "corps"}
    assert [p.code for p in table if p.kind == "municipality"] == ["11", "12", "31", "50"]
    for code in ("71", "81", "82", "10", "00"):
        assert code not in table
    with pytest.raises(UnknownCode, match="省份"):
        province("81")


def test_provinces_csv_is_well_formed():
    text = resources.files("quxiang.common").joinpath("data", "regions_provinces.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert [r["code"] for r in rows] == sorted(r["code"] for r in rows)
    assert all(len(r["code"]) == 2 and r["code"].isdigit() for r in rows)


# --- six-digit region codes ---


@pytest.mark.parametrize(
    ("code", "province_code", "level"),
    [
        ("110000", "11", "province"),
        ("110105", "11", "county"),
        ("440300", "44", "prefecture"),
        ("441900", "44", "prefecture"),  # 东莞: a prefecture-level city without counties
        ("429004", "42", "county"),  # 仙桃: directly under the province (90)
        ("659012", "65", "county"),
        ("660000", "66", "province"),
        # where a graduate from Taiwan, Hong Kong or Macao comes from, or a unit is: GB/T 2260 codes
        ("710000", "71", "province"),
        ("810000", "81", "province"),
        ("820000", "82", "province"),
    ],
)
def test_region_resolves_province_and_level(code, province_code, level):
    r = region(code)
    assert r.code == code
    assert r.province.code == province_code
    assert r.level == level
    assert is_valid_region(code)
    assert validate_region_code(code, "生源所在地") == code


def test_region_name_is_known_for_province_level_codes_only():
    assert region("330000").name == "浙江省"
    assert region("810000").name == "香港特别行政区"
    assert region("330106").name is None


@pytest.mark.parametrize(
    "code",
    [
        "11010",  # too short
        "1101055",  # too long
        "11010a",
        "１１０１０５",  # full-width digits are not a stored code
        "810100",  # GB/T 2260 divides neither Taiwan nor the two SARs
        "710101",
        "830000",  # a residence permit's prefix, not a region
        "100000",  # the national code is not a place a graduate comes from
        "990101",
        "110001",  # county digits under no prefecture
        "",
    ],
)
def test_invalid_region_codes(code):
    assert not is_valid_region(code)
    with pytest.raises(UnknownCode) as info:
        validate_region_code(code, "单位所在地")
    assert info.value.field == "单位所在地"
    assert repr(code) in str(info.value)


def test_region_rejects_non_strings():
    assert not is_valid_region(110105)
    assert not is_valid_region(None)
    with pytest.raises(UnknownCode):
        validate_region_code(110105, "生源所在地")  # type: ignore[arg-type]


def test_validate_region_code_strips_spreadsheet_padding():
    assert validate_region_code(" 320102\t", "生源所在地") == "320102"
