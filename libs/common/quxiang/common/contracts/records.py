"""Events published by records that other services depend on: the roster, school settings, and
archive (档案) and hukou (户口) registrations with their reviews. None carries an identity number."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from quxiang.common.contracts.free_text import FreeText
from quxiang.common.events import catalogue

REGISTRATION_MODULES = ("archive", "hukou")

GRADUATE_REGISTERED = "records.graduate.registered"
GRADUATE_UPDATED = "records.graduate.updated"
GRADUATE_WITHDRAWN = "records.graduate.withdrawn"
SCHOOL_SETTINGS_UPDATED = "records.school_settings.updated"
ARCHIVE_SUBMITTED = "records.archive.submitted"
ARCHIVE_APPROVED = "records.archive.approved"
ARCHIVE_REJECTED = "records.archive.rejected"
HUKOU_SUBMITTED = "records.hukou.submitted"
HUKOU_APPROVED = "records.hukou.approved"
HUKOU_REJECTED = "records.hukou.rejected"

# (module, outcome) -> event type; outcome is submitted, approved or rejected.
REGISTRATION_EVENTS = {
    ("archive", "submitted"): ARCHIVE_SUBMITTED, ("archive", "approved"): ARCHIVE_APPROVED,
    ("archive", "rejected"): ARCHIVE_REJECTED, ("hukou", "submitted"): HUKOU_SUBMITTED,
    ("hukou", "approved"): HUKOU_APPROVED, ("hukou", "rejected"): HUKOU_REJECTED,
}


class GraduateRegistered(Schema):
    """A roster row (生源) was imported (registered) or changed (updated). Never an identity number."""

    graduate_id = fields.String(required=True)
    exam_number = fields.String(required=True)  # 考生号
    student_number = fields.String(allow_none=True, load_default=None)  # 学号
    name = fields.String(required=True)
    school_code = fields.String(required=True)
    department_id = fields.String(allow_none=True, load_default=None)
    education_level = fields.String(allow_none=True, load_default=None)
    graduation_year = fields.Integer(required=True)
    gender = fields.String(allow_none=True, load_default=None)                  # M / F
    major_code = fields.String(allow_none=True, load_default=None)
    major_name = fields.String(allow_none=True, load_default=None)
    identity_number_masked = fields.String(allow_none=True, load_default=None)  # 440***********1234, for lists


class GraduateWithdrawn(GraduateRegistered):
    """The school took the graduate off its roster (移出生源: left school, imported by mistake). Same
    subject and sequence as the roster events: a later ``records.graduate.updated`` puts the graduate
    back. Only a graduate with nothing registered yet is withdrawn."""

    reason = FreeText(required=True, validate=validate.Length(min=1, max=200))


class SchoolSettingsUpdated(Schema):
    school_code = fields.String(required=True)
    module = fields.String(required=True, validate=validate.OneOf(REGISTRATION_MODULES))
    completed = fields.Boolean(required=True)


class Transfer(Schema):
    """Where the archive is forwarded (档案转寄) or the hukou moves (户口迁转)."""

    transfer_type = fields.String(required=True)         # reference/transfer_types.csv, per module
    receiving_unit = FreeText(allow_none=True, load_default=None)        # 接收单位
    receiving_department = FreeText(allow_none=True, load_default=None)  # 接收部门
    address = FreeText(allow_none=True, load_default=None)               # 地址 / 户口迁转地址
    postcode = fields.String(allow_none=True, load_default=None)
    recipient = FreeText(allow_none=True, load_default=None)             # 收件人
    phone = fields.String(allow_none=True, load_default=None)


class RegistrationChanged(Schema):
    """An archive or hukou registration was submitted, approved or rejected. The subject is the
    registration (one per graduate and module); the sequence is its version."""

    registration_id = fields.String(required=True)
    module = fields.String(required=True, validate=validate.OneOf(REGISTRATION_MODULES))
    graduate_id = fields.String(required=True)
    exam_number = fields.String(required=True)
    name = fields.String(required=True)
    school_code = fields.String(required=True)
    department_id = fields.String(allow_none=True, load_default=None)
    education_level = fields.String(allow_none=True, load_default=None)
    graduation_year = fields.Integer(required=True)
    status = fields.String(required=True)                 # the registration's state after the change
    transfer = fields.Nested(Transfer, required=True)
    transfer_number = fields.String(allow_none=True, load_default=None)  # 转递编号, archive once approved
    level = fields.String(allow_none=True, load_default=None)            # review level: department or school
    reviewer_id = fields.String(allow_none=True, load_default=None)
    reason = FreeText(allow_none=True, load_default=None)           # rejection reason
    submitted_at = fields.DateTime(allow_none=True, load_default=None)
    decided_at = fields.DateTime(allow_none=True, load_default=None)
    # the roster row's version the name and department above come from (copies of the roster that are
    # behind it take the event's name rather than their own)
    graduate_version = fields.Integer(allow_none=True, load_default=None)
    # an earlier approval still stands: set on the approval, on a refused change (status approved) and
    # on a change submitted to an approved registration, which is in review while the EMS keeps the
    # approval and the statistics keep counting the graduate as 已登记
    approval_stands = fields.Boolean(load_default=False)


_TYPES = {
    GRADUATE_REGISTERED: (GraduateRegistered, "A graduate was added to a school's roster (生源)."),
    GRADUATE_UPDATED: (GraduateRegistered, "A graduate's roster data changed (re-import), or the "
                                           "school put a withdrawn graduate back on the roster."),
    GRADUATE_WITHDRAWN: (GraduateWithdrawn, "The school took a graduate off its roster (移出生源), "
                                            "with the reason."),
    SCHOOL_SETTINGS_UPDATED: (SchoolSettingsUpdated, "A school's archive or hukou settings changed."),
    ARCHIVE_SUBMITTED: (RegistrationChanged, "A graduate submitted its archive registration for review."),
    ARCHIVE_APPROVED: (RegistrationChanged, "An archive registration was approved (carries the transfer number)."),
    ARCHIVE_REJECTED: (RegistrationChanged, "An archive registration was rejected, with the reason."),
    HUKOU_SUBMITTED: (RegistrationChanged, "A graduate submitted its hukou registration for review."),
    HUKOU_APPROVED: (RegistrationChanged, "A hukou registration was approved."),
    HUKOU_REJECTED: (RegistrationChanged, "A hukou registration was rejected, with the reason."),
}
for _name, (_schema, _description) in _TYPES.items():
    if _name not in catalogue:
        catalogue.register(_name, _schema, version=1, description=_description)
