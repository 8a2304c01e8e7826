"""Events published by records that other services depend on (the roster, school settings)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from quxiang.common.events import catalogue

GRADUATE_REGISTERED = "records.graduate.registered"
SCHOOL_SETTINGS_UPDATED = "records.school_settings.updated"


class GraduateRegistered(Schema):
    """A roster row (生源) was imported or changed. Never an identity number."""

    graduate_id = fields.String(required=True)
    exam_number = fields.String(required=True)  # 考生号
    student_number = fields.String(allow_none=True, load_default=None)  # 学号
    name = fields.String(required=True)
    school_code = fields.String(required=True)
    department_id = fields.String(allow_none=True, load_default=None)
    education_level = fields.String(allow_none=True, load_default=None)
    graduation_year = fields.Integer(required=True)


class SchoolSettingsUpdated(Schema):
    school_code = fields.String(required=True)
    module = fields.String(required=True, validate=validate.OneOf(["archive", "hukou"]))
    completed = fields.Boolean(required=True)


for _name, _schema, _description in (
    (GRADUATE_REGISTERED, GraduateRegistered, "A roster row was imported or changed."),
    (SCHOOL_SETTINGS_UPDATED, SchoolSettingsUpdated, "A school's archive or hukou settings changed."),
):
    if _name not in catalogue:
        catalogue.register(_name, _schema, version=1, description=_description)
