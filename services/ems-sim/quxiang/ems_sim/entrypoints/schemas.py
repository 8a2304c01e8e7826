"""Request bodies: a record per kind (the platform's PUT, the system's PATCH, the test-only tamper)
and the fault settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from quxiang.ems_sim.adapters.tables import ADDRESS, CODE, EXAM_NUMBER, TEXT
from quxiang.ems_sim.domain.records import DESTINATION_STATUSES, FIELDS, GRADUATE_FIELDS, REQUIRED, Kind, Source

YEARS = validate.Range(min=2000, max=2100)  # the platform's own bounds on 毕业年份


def _string(length: int) -> Callable[[], fields.Field]:
    return lambda: fields.String(allow_none=True, validate=validate.Length(max=length))


_FIELD_FACTORIES: dict[str, Callable[[], fields.Field]] = {
    "school_code": _string(CODE),
    "name": _string(50),
    "graduation_year": lambda: fields.Integer(allow_none=True, strict=True, validate=YEARS),
    "education_level": _string(CODE),
    # an INTEGER column: a larger version is refused, not an overflow in the database
    "platform_version": lambda: fields.Integer(allow_none=True, strict=True,
                                               validate=validate.Range(min=0, max=2**31 - 1)),
    "source": lambda: fields.String(validate=validate.OneOf([s.value for s in Source])),
    "destination_code": _string(CODE),
    "unit_name": _string(TEXT),
    "credit_code": _string(CODE),
    "unit_nature": _string(CODE),
    "unit_industry": _string(CODE),
    "unit_region": _string(CODE),
    "position_category": _string(CODE),
    "signing_date": lambda: fields.Date(allow_none=True),
    "agreement_number": _string(64),
    "further_study_school": _string(TEXT),
    "further_study_programme": _string(TEXT),
    "study_country": _string(TEXT),
    "enlistment_notice_number": _string(64),
    "status": lambda: fields.String(allow_none=True, validate=validate.OneOf(DESTINATION_STATUSES)),
    "transfer_type": _string(CODE),
    "receiving_unit": _string(TEXT),
    "receiving_department": _string(TEXT),
    "address": _string(ADDRESS),
    "postcode": _string(CODE),
    "recipient": _string(50),
    "phone": _string(30),
    "transfer_number": _string(64),
}


def _schema(kind: Kind, names: tuple[str, ...], *, required: bool, not_null: bool, name: str) -> type[Schema]:
    declared: dict[str, fields.Field] = {}
    for field_name in names:
        field = _FIELD_FACTORIES[field_name]()
        if field_name in REQUIRED[kind] and not_null:
            field.allow_none = False
            field.required = required
            if isinstance(field, fields.String) and field_name != "status":
                field.validators.append(validate.Length(min=1))
        declared[field_name] = field
    return Schema.from_dict(declared, name=name)


class NotEmpty(Schema):
    @validates_schema
    def _not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("没有要修改的字段")


def _patch_schema(kind: Kind) -> type[Schema]:
    base = _schema(kind, (*FIELDS[kind], *GRADUATE_FIELDS), required=False, not_null=True,
                   name=f"{kind.value.title()}Patch")
    return type(f"{kind.value.title()}PatchBody", (base, NotEmpty), {})


PUT_SCHEMAS: dict[Kind, Schema] = {
    kind: _schema(kind, (*FIELDS[kind], *GRADUATE_FIELDS, "platform_version"), required=True, not_null=True,
                  name=f"{kind.value.title()}Record")()
    for kind in Kind}
PATCH_SCHEMAS: dict[Kind, Schema] = {kind: _patch_schema(kind)() for kind in Kind}
TAMPER_SCHEMAS: dict[Kind, Schema] = {
    kind: _schema(kind, (*FIELDS[kind], *GRADUATE_FIELDS, "platform_version", "source"), required=False,
                  not_null=False, name=f"{kind.value.title()}Tamper")()
    for kind in Kind}


def check_exam_number(exam_number: str) -> str:
    if not 1 <= len(exam_number) <= EXAM_NUMBER:
        raise ValidationError({"exam_number": [f"考生号长度应为 1 到 {EXAM_NUMBER} 个字符"]})
    return exam_number


class RecordsArgs(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in Kind]))
    school_code = fields.String(load_default=None, validate=validate.Length(max=CODE))
    graduation_year = fields.Integer(load_default=None, validate=YEARS)
    updated_since = fields.AwareDateTime(load_default=None, default_timezone=UTC,
                                         metadata={"description": "ISO 8601; without a zone: UTC"})
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class FaultsBody(Schema):
    latency_ms = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=600_000))
    error_rate = fields.Float(load_default=0.0, validate=validate.Range(min=0, max=1))
    throttle_rate = fields.Float(load_default=0.0, validate=validate.Range(min=0, max=1))
    retry_after_s = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=0, max=86_400))
    down = fields.Boolean(load_default=False)


class TamperBody(Schema):
    exam_number = fields.String(required=True, validate=validate.Length(min=1, max=EXAM_NUMBER))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in Kind]))
    fields_ = fields.Dict(data_key="fields", load_default=None, keys=fields.String())
    delete = fields.Boolean(load_default=False)

    @validates_schema
    def _one_of(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("delete") == (data.get("fields_") is not None):
            raise ValidationError("需要 fields 或 delete: true（二选一）")
