"""Events published by signing that other services depend on."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from quxiang.common.contracts.free_text import FreeText
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
AGREEMENT_APPLIED = "signing.agreement.applied"                    # offline: the application
AGREEMENT_APPLICATION_ADVANCED = "signing.agreement.application_department_approved"
AGREEMENT_APPLICATION_APPROVED = "signing.agreement.application_approved"  # the agreement is generated
AGREEMENT_APPLICATION_REJECTED = "signing.agreement.application_rejected"
AGREEMENT_REGISTERED = "signing.agreement.registered"              # supplementary: a paper agreement
AGREEMENT_SUBMITTED = "signing.agreement.submitted"                # the scan, for the signing review
AGREEMENT_VOID_REQUESTED = "signing.agreement.void_requested"
AGREEMENT_VOID_REJECTED = "signing.agreement.void_rejected"
AGREEMENT_VOIDED = "signing.agreement.voided"
AGREEMENT_TERMINATED = "signing.agreement.terminated"


class AgreementChanged(Schema):
    """An agreement changed state. Subject: the agreement; sequence: its version. ``approved`` carries
    what the employment management system needs; no event carries an identity number."""

    agreement_id = fields.String(required=True)
    agreement_number = fields.String(required=True)        # 协议编号
    agreement_type = fields.String(required=True, validate=validate.OneOf(["two_party", "three_party"]))
    initiator = fields.String(required=True, validate=validate.OneOf(["employer", "graduate"]))
    flow = fields.String(load_default="online", validate=validate.OneOf(["online", "offline", "supplementary"]))
    status = fields.String(required=True)
    graduate_id = fields.String(required=True)
    exam_number = fields.String(required=True)
    name = fields.String(required=True)
    school_code = fields.String(required=True)
    department_id = fields.String(allow_none=True, load_default=None)
    education_level = fields.String(allow_none=True, load_default=None)
    graduation_year = fields.Integer(required=True)
    employer_id = fields.String(allow_none=True, load_default=None)   # none: the unit is not on the platform
    actor_role = fields.String(allow_none=True, load_default=None)
    reason = FreeText(allow_none=True, load_default=None)
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


_AGREEMENT_TYPES = (
    (AGREEMENT_INVITED, "An employer invited a graduate to sign (签约邀请)."),
    (AGREEMENT_ACCEPTED, "The graduate accepted; the agreement goes to review."),
    (AGREEMENT_DECLINED, "The graduate declined the invitation (学生已拒绝签约)."),
    (AGREEMENT_EXPIRED, "The invitation expired unanswered (签约邀请逾期未回应)."),
    (AGREEMENT_WITHDRAWN, "The employer withdrew its open invitation."),
    (AGREEMENT_DEPARTMENT_APPROVED, "The department approved; the school reviews next."),
    (AGREEMENT_REJECTED, "The department or the school rejected the agreement, with a reason."),
    (AGREEMENT_APPROVED, "The school approved (三方: 审核) or attested (两方: 鉴证) the agreement; it is in force."),
    (AGREEMENT_APPLIED, "A graduate applied for an offline agreement (线下签约), or re-applied."),
    (AGREEMENT_APPLICATION_ADVANCED, "The department approved the application; the school reviews next."),
    (AGREEMENT_APPLICATION_APPROVED, "The school approved the application; the agreement is generated."),
    (AGREEMENT_APPLICATION_REJECTED, "The department or the school rejected the application."),
    (AGREEMENT_REGISTERED, "A graduate registered a paper agreement signed elsewhere (补登)."),
    (AGREEMENT_SUBMITTED, "The signed scan was uploaded; the signing review starts."),
    (AGREEMENT_VOID_REQUESTED, "The graduate asked to void (作废) the approved agreement."),
    (AGREEMENT_VOID_REJECTED, "The school refused to void the agreement; it stays in force."),
    (AGREEMENT_VOIDED, "The agreement was voided (作废); the graduate registers again."),
    (AGREEMENT_TERMINATED, "The agreement was terminated (解约); the graduate may sign again."),
)
for _name, _description in _AGREEMENT_TYPES:
    if _name not in catalogue:
        catalogue.register(_name, AgreementChanged, version=1, description=_description)

AGREEMENT_EVENTS = tuple(name for name, _ in _AGREEMENT_TYPES)
# An invitation's own events: nothing was signed, and nothing follows them (the graduate accepting
# is AGREEMENT_ACCEPTED). Every other agreement event means signing holds a record of the graduate.
INVITATION_EVENTS = frozenset({AGREEMENT_INVITED, AGREEMENT_DECLINED, AGREEMENT_EXPIRED, AGREEMENT_WITHDRAWN})
# The agreement statuses those events leave (an agreement in any other has been signed or applied for).
INVITATION_STATUSES = frozenset({"invited", "declined", "expired", "withdrawn"})


# --- termination (解约) ----------------------------------------------------------------------------

TERMINATION_REQUESTED = "signing.termination.requested"
TERMINATION_AGREED = "signing.termination.agreed"
TERMINATION_DECLINED = "signing.termination.declined"
TERMINATION_WITHDRAWN = "signing.termination.withdrawn"
TERMINATION_APPROVED = "signing.termination.approved"
TERMINATION_REJECTED = "signing.termination.rejected"


class TerminationChanged(Schema):
    """A termination request changed state. Subject: the request; sequence: its version."""

    termination_id = fields.String(required=True)
    agreement_id = fields.String(required=True)
    agreement_number = fields.String(required=True)
    mode = fields.String(required=True, validate=validate.OneOf(["online", "offline"]))
    requested_by = fields.String(required=True, validate=validate.OneOf(["graduate", "employer"]))
    status = fields.String(required=True)
    graduate_id = fields.String(required=True)
    school_code = fields.String(required=True)
    department_id = fields.String(allow_none=True, load_default=None)
    employer_id = fields.String(allow_none=True, load_default=None)
    reason = FreeText(allow_none=True, load_default=None)


for _name, _description in (
    (TERMINATION_REQUESTED, "A party asked to terminate an approved agreement (online), or the graduate "
                            "uploaded a termination letter (offline)."),
    (TERMINATION_AGREED, "The other party agreed; the school reviews next."),
    (TERMINATION_DECLINED, "The other party did not agree; the agreement stays in force."),
    (TERMINATION_WITHDRAWN, "The requesting party withdrew its request."),
    (TERMINATION_APPROVED, "The school approved the termination (signing.agreement.terminated follows)."),
    (TERMINATION_REJECTED, "The school rejected the termination; the agreement stays in force."),
):
    if _name not in catalogue:
        catalogue.register(_name, TerminationChanged, version=1, description=_description)
