"""The field-rule table of 去向登记 as pure functions: each rule's failure, every broken rule reported
at once, drafts checked for what they hold, the categories and their proofs, the EMS data."""

from __future__ import annotations

import pytest

from quxiang.common.reference import destination_categories
from quxiang.common.validators import make_credit_code
from quxiang.signing.domain.destination import (
    FIELDS,
    FORMS,
    InvalidDestination,
    check_destination,
    ems_data,
    form_of,
    missing_proof,
)

CREDIT = make_credit_code("91440106MA59DEMX1")
WRONG_CHECK = CREDIT[:-1] + ("0" if CREDIT[-1] != "0" else "1")
UNIT = {"unit_name": "广州示例信息科技有限公司", "credit_code": CREDIT, "unit_nature": "39", "unit_industry": "34",
        "unit_region": "440106", "position_category": "10"}
VALID = {
    "11": UNIT, "12": UNIT, "27": UNIT, "271": UNIT, "50": UNIT, "502": UNIT, "503": UNIT, "51": UNIT, "512": UNIT,
    "519": UNIT,
    "46": {"enlistment_notice_number": "2026-44-0001", "enlistment_region": "440106"},
    "75": {"business_name": "广州示例文化工作室", "credit_code": CREDIT},
    "76": {"description": "自由撰稿"},
    "80": {"study_school": "中山大学", "programme": "软件工程"},
    "801": {"study_school": "中山大学", "programme": "软件工程"},
    "802": {"study_school": "中山大学", "programme": "法学"},
    "85": {"study_school": "University of Oxford", "programme": "Computer Science", "country": "英国"},
    "70": {}, "71": {}, "72": {},
}


def errors_of(code, data, complete=True):
    with pytest.raises(InvalidDestination) as caught:
        check_destination(code, data, complete=complete)
    return caught.value.errors


def test_every_category_but_the_agreement_one_has_a_form_and_a_valid_example():
    codes = {c.code for c in destination_categories() if not c.requires_agreement}
    assert codes == set(VALID)  # a new category in the csv needs a decision here
    assert {c.code for c in destination_categories() if form_of(c) is None} == {"10"}
    for code, data in VALID.items():
        checked = check_destination(code, data, complete=True)
        assert dict(checked.fields) == data, code
    assert set(FORMS) == {c.top_level.code for c in destination_categories() if not c.requires_agreement}


@pytest.mark.parametrize("code", ["10", "", None, "99", "1"])
def test_the_code_is_required_known_and_not_an_agreement(code):
    errors = errors_of(code, {})
    assert list(errors) == ["destination_code"]
    if code == "10":
        assert "网上签约" in errors["destination_code"][0]


def test_proof_where_the_type_needs_it():
    needs = {code for code in VALID if form_of(destination_categories().get(code)).proof}
    assert needs == {"46", "75", "80", "801", "802", "85"}
    assert missing_proof(FORMS["80"], 0) == "须上传录取通知书"
    assert missing_proof(FORMS["46"], 0) == "须上传入伍通知书"
    assert missing_proof(FORMS["75"], 0) == "须上传营业执照"
    assert missing_proof(FORMS["80"], 1) is None and missing_proof(FORMS["11"], 0) is None


@pytest.mark.parametrize(("code", "field", "value", "reason"), [
    ("11", "unit_name", None, "必填"),
    ("11", "unit_name", "单" * 101, "不能超过100个字符"),
    ("11", "credit_code", None, "必填"),
    ("11", "credit_code", WRONG_CHECK, "校验码不正确"),
    ("11", "credit_code", "91440106MA59DEMX", "应为18位"),
    ("11", "credit_code", "91440106MA59DEMXI" + "0", "不允许的字符"),
    ("11", "unit_nature", "00", "未知的单位性质代码"),
    ("11", "unit_industry", "00", "未知的单位行业代码"),
    ("11", "unit_region", "4401", "行政区划代码"),
    ("11", "position_category", "00", "未知的职位类别代码"),
    ("11", "position_category", None, "必填"),
    ("46", "enlistment_notice_number", None, "必填"),
    ("46", "enlistment_notice_number", "1" * 51, "不能超过50个字符"),
    ("46", "enlistment_region", "999999", "行政区划代码"),
    ("75", "business_name", None, "必填"),
    ("75", "credit_code", "X" * 18, "第1位登记管理部门码"),
    ("76", "description", None, "必填"),
    ("76", "description", "说" * 501, "不能超过500个字符"),
    ("80", "study_school", None, "必填"),
    ("801", "programme", None, "必填"),
    ("85", "country", None, "必填"),
    ("85", "country", "国" * 51, "不能超过50个字符"),
])
def test_each_rule_fails_on_its_own(code, field, value, reason):
    data = {**VALID[code], field: value}
    errors = errors_of(code, data)
    assert list(errors) == ["fields"] and list(errors["fields"]) == [field], errors
    assert any(reason in message for message in errors["fields"][field]), errors


@pytest.mark.parametrize(("code", "foreign"), [("70", "unit_name"), ("80", "credit_code"), ("11", "country"),
                                               ("46", "unit_name"), ("76", "programme")])
def test_a_field_foreign_to_the_category_is_refused(code, foreign):
    errors = errors_of(code, {**VALID[code], foreign: "x"})
    assert list(errors["fields"]) == [foreign] and "不填写此项" in errors["fields"][foreign][0]


def test_every_broken_rule_of_every_field_at_once():
    errors = errors_of("11", {"unit_name": "", "credit_code": "abc", "unit_nature": "00", "unit_industry": 34,
                              "unit_region": "44", "country": "英国"})
    assert set(errors["fields"]) == {"unit_name", "credit_code", "unit_nature", "unit_industry", "unit_region",
                                     "position_category", "country"}
    assert errors["fields"]["unit_industry"] == ["应为文本"]
    assert all(name in FIELDS for name in errors["fields"])


def test_a_draft_is_checked_for_what_it_holds():
    assert dict(check_destination("11", {"unit_name": " 广州示例 "}, complete=False).fields) == {
        "unit_name": "广州示例"}
    assert list(errors_of("11", {"unit_nature": "00"}, complete=False)["fields"]) == ["unit_nature"]
    normalised = check_destination("75", {"business_name": "工作室", "credit_code": CREDIT.lower()}, complete=True)
    assert normalised.fields["credit_code"] == CREDIT


def test_the_ems_data_per_category():
    unit = ems_data("512", UNIT)
    assert (unit["destination_code"], unit["placement_bucket"], unit["unit_name"], unit["credit_code"],
            unit["unit_nature"], unit["unit_industry"], unit["unit_region"], unit["position_category"]) == (
        "512", "unit_employment", *UNIT.values())
    study = ems_data("85", VALID["85"])
    assert (study["study_school"], study["programme"], study["country"], study["unit_name"]) == (
        "University of Oxford", "Computer Science", "英国", None)
    soldier = ems_data("46", VALID["46"])
    assert (soldier["unit_nature"], soldier["unit_industry"], soldier["unit_region"]) == ("40", "80", "440106")
    business = ems_data("75", VALID["75"])
    assert (business["unit_name"], business["credit_code"], business["placement_bucket"]) == (
        "广州示例文化工作室", CREDIT, "entrepreneurship")
    assert ems_data("70", {})["placement_bucket"] is None


def test_invisible_text_is_no_value_and_one_line_fields_hold_no_line_break():
    assert errors_of("11", {**UNIT, "unit_name": "\u200b\u200b"})["fields"] == {"unit_name": ["必填"]}
    assert errors_of("11", {**UNIT, "unit_name": "广州\n示例"})["fields"] == {"unit_name": ["不能换行"]}
    kept = check_destination("11", {**UNIT, "unit_name": "\ufeff广州示例信息科技有限公司\u200b"}, complete=True)
    assert kept.fields["unit_name"] == "广州示例信息科技有限公司"
    assert check_destination("76", {"description": "第一段\n第二段"}, complete=True).fields["description"] == \
        "第一段\n第二段"
