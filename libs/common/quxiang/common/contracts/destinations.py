"""Events published by signing about destination registrations (去向登记) and their void requests.

Subject: the registration; sequence: its version. ``approved`` and ``voided`` carry what the
employment management system needs (the ``ems_*`` keys are None on the other events and where the
category has no such value). No event carries an identity number.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from quxiang.common.contracts.free_text import FreeText
from quxiang.common.events import catalogue

DESTINATION_SUBMITTED = "signing.destination.submitted"
DESTINATION_DEPARTMENT_APPROVED = "signing.destination.department_approved"
DESTINATION_APPROVED = "signing.destination.approved"
DESTINATION_REJECTED = "signing.destination.rejected"
DESTINATION_VOID_REQUESTED = "signing.destination.void_requested"
DESTINATION_VOID_REJECTED = "signing.destination.void_rejected"
DESTINATION_VOIDED = "signing.destination.voided"

STATUSES = ("draft", "department_review", "school_review", "approved", "department_rejected", "school_rejected",
            "void_review", "voided")


class DestinationChanged(Schema):
    registration_id = fields.String(required=True)
    graduate_id = fields.String(required=True)
    exam_number = fields.String(required=True)             # 考生号
    name = fields.String(required=True)
    school_code = fields.String(required=True)
    department_id = fields.String(allow_none=True, load_default=None)
    education_level = fields.String(allow_none=True, load_default=None)
    graduation_year = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    destination_code = fields.String(required=True)        # 毕业去向类别代码
    placement_bucket = fields.String(allow_none=True, load_default=None)  # 毕业去向落实率 bucket, None: not placed
    category_fields = fields.Dict(keys=fields.String(), values=FreeText(), required=True,
                                  data_key="fields")                # the category's fields
    reason = FreeText(allow_none=True, load_default=None)
    level = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(["department", "school"]))
    actor_role = fields.String(allow_none=True, load_default=None)
    # what the employment management system needs (approved and voided only)
    unit_name = fields.String(allow_none=True, load_default=None)          # 单位名称 (75: the business)
    credit_code = fields.String(allow_none=True, load_default=None)        # 统一社会信用代码
    unit_nature = fields.String(allow_none=True, load_default=None)        # 单位性质
    unit_industry = fields.String(allow_none=True, load_default=None)      # 单位行业
    unit_region = fields.String(allow_none=True, load_default=None)        # 单位所在地 (46: 入伍地)
    position_category = fields.String(allow_none=True, load_default=None)  # 工作职位类别
    study_school = fields.String(allow_none=True, load_default=None)       # 升学院校
    programme = fields.String(allow_none=True, load_default=None)          # 录取专业
    country = fields.String(allow_none=True, load_default=None)            # 留学国家（地区）
    enlistment_notice_number = fields.String(allow_none=True, load_default=None)
    approved_at = fields.DateTime(allow_none=True, load_default=None)
    voided_at = fields.DateTime(allow_none=True, load_default=None)


_DESTINATION_TYPES = (
    (DESTINATION_SUBMITTED, "A graduate submitted a destination registration (去向登记) for review."),
    (DESTINATION_DEPARTMENT_APPROVED, "The department approved a registration; the school reviews next."),
    (DESTINATION_APPROVED, "The school approved a registration (登记审核通过); mirror it into the EMS."),
    (DESTINATION_REJECTED, "The department or the school rejected a registration, with a reason."),
    (DESTINATION_VOID_REQUESTED, "The graduate asked to void (作废) an approved registration, with a reason."),
    (DESTINATION_VOID_REJECTED, "The school refused the void request; the registration stays approved."),
    (DESTINATION_VOIDED, "The school voided the registration (已作废); remove it from the EMS."),
)
DESTINATION_EVENTS = tuple(name for name, _ in _DESTINATION_TYPES)
for _name, _description in _DESTINATION_TYPES:
    if _name not in catalogue:
        catalogue.register(_name, DestinationChanged, version=1, description=_description)
