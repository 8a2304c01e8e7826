"""Events published by signing that other services depend on."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from quxiang.common.events import catalogue

SCHOOL_SETTINGS_UPDATED = "signing.school_settings.updated"


class SchoolSettingsUpdated(Schema):
    school_code = fields.String(required=True)
    module = fields.String(required=True, validate=validate.Equal("employment"))
    completed = fields.Boolean(required=True)


if SCHOOL_SETTINGS_UPDATED not in catalogue:
    catalogue.register(SCHOOL_SETTINGS_UPDATED, SchoolSettingsUpdated, version=1,
                       description="A school's signing settings (网签设置) changed.")


# --- online signing (在线签约) ---------------------------------------------------------------------

AGREEMENT_INVITED = "signing.agreement.invited"
AGREEMENT_ACCEPTED = "signing.agreement.accepted"
AGREEMENT_DECLINED = "signing.agreement.declined"
AGREEMENT_EXPIRED = "signing.agreement.expired"
AGREEMENT_WITHDRAWN = "signing.agreement.withdrawn"
AGREEMENT_DEPARTMENT_APPROVED = "signing.agreement.department_approved"
AGREEMENT_REJECTED = "signing.agreement.rejected"
AGREEMENT_APPROVED = "signing.agreement.approved"


class AgreementChanged(Schema):
    """An agreement changed state. Subject: the agreement; sequence: its version. ``approved`` carries
    what the employment management system needs; no event carries an identity number."""

    agreement_id = fields.String(required=True)
    agreement_number = fields.String(required=True)        # 协议编号
    agreement_type = fields.String(required=True, validate=validate.OneOf(["two_party", "three_party"]))
    initiator = fields.String(required=True, validate=validate.OneOf(["employer", "graduate"]))
    status = fields.String(required=True)
    graduate_id = fields.String(required=True)
    exam_number = fields.String(required=True)
    name = fields.String(required=True)
    school_code = fields.String(required=True)
    department_id = fields.String(allow_none=True, load_default=None)
    education_level = fields.String(allow_none=True, load_default=None)
    graduation_year = fields.Integer(required=True)
    employer_id = fields.String(required=True)
    actor_role = fields.String(allow_none=True, load_default=None)
    reason = fields.String(allow_none=True, load_default=None)
    # what the employment management system needs (set on every event, complete once approved)
    destination_code = fields.String(required=True)        # 毕业去向类别代码: 10 签就业协议形式就业
    unit_name = fields.String(required=True)
    credit_code = fields.String(required=True)             # 统一社会信用代码
    unit_nature = fields.String(required=True)
    unit_industry = fields.String(required=True)
    unit_region = fields.String(required=True)             # 单位所在地
    position_category = fields.String(required=True)       # 工作职位类别
    signing_date = fields.Date(allow_none=True, load_default=None)   # the day the graduate accepted
    approved_at = fields.DateTime(allow_none=True, load_default=None)


for _name, _description in (
    (AGREEMENT_INVITED, "An employer invited a graduate to sign (签约邀请)."),
    (AGREEMENT_ACCEPTED, "The graduate accepted; the agreement goes to review."),
    (AGREEMENT_DECLINED, "The graduate declined the invitation (学生已拒绝签约)."),
    (AGREEMENT_EXPIRED, "The invitation expired unanswered (签约邀请逾期未回应)."),
    (AGREEMENT_WITHDRAWN, "The employer withdrew its open invitation."),
    (AGREEMENT_DEPARTMENT_APPROVED, "The department approved; the school reviews next."),
    (AGREEMENT_REJECTED, "The department or the school rejected the agreement, with a reason."),
    (AGREEMENT_APPROVED, "The school approved (三方: 审核) or attested (两方: 鉴证) the agreement; it is in force."),
):
    if _name not in catalogue:
        catalogue.register(_name, AgreementChanged, version=1, description=_description)
