"""Events published by accounts: organisations, users, permissions and function settings."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from quxiang.common.auth.principal import Access, Module, Role
from quxiang.common.auth.revocation import TOKENS_REVOKED  # noqa: F401 - registered there, published by accounts
from quxiang.common.events import catalogue

MODULES = [m.value for m in Module]
ACCESS = [a.value for a in Access]
ROLES = [r.value for r in Role]
AGREEMENT_TYPES = ("two_party", "three_party")

SCHOOL_CREATED = "accounts.school.created"
DEPARTMENT_CREATED = "accounts.department.created"
EMPLOYER_REGISTERED = "accounts.employer.registered"
EMPLOYER_UPDATED = "accounts.employer.updated"
USER_CREATED = "accounts.user.created"
USER_PERMISSIONS_CHANGED = "accounts.user.permissions_changed"
USER_DISABLED = "accounts.user.disabled"
USER_ENABLED = "accounts.user.enabled"
USER_RENAMED = "accounts.user.renamed"
USER_PASSWORD_RESET = "accounts.user.password_reset"  # noqa: S105 - an event type, not a password
GRADUATE_ACTIVATED = "accounts.graduate.activated"
GRADUATE_CODE_REISSUED = "accounts.graduate.code_reissued"
MODULE_ENABLED = "accounts.module.enabled"
AGREEMENT_TYPE_SET = "accounts.school.agreement_type_set"


class Permissions(Schema):
    employment = fields.String(required=True, validate=validate.OneOf(ACCESS))
    archive = fields.String(required=True, validate=validate.OneOf(ACCESS))
    hukou = fields.String(required=True, validate=validate.OneOf(ACCESS))


class SchoolCreated(Schema):
    school_code = fields.String(required=True)
    name = fields.String(required=True)
    province = fields.String(required=True)


class DepartmentCreated(Schema):
    department_id = fields.String(required=True)
    school_code = fields.String(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)


class EmployerRegistered(Schema):
    employer_id = fields.String(required=True)
    credit_code = fields.String(required=True)
    name = fields.String(required=True)
    nature = fields.String(required=True)
    industry = fields.String(required=True)
    region = fields.String(required=True)
    address = fields.String(load_default=None)  # 单位地址; events recorded before it carried none


class UserCreated(Schema):
    user_id = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    province = fields.String(allow_none=True, load_default=None)
    school = fields.String(allow_none=True, load_default=None)
    department = fields.String(allow_none=True, load_default=None)
    graduate = fields.String(allow_none=True, load_default=None)
    employer = fields.String(allow_none=True, load_default=None)
    permissions = fields.Nested(Permissions, allow_none=True, load_default=None)


class UserPermissionsChanged(Schema):
    user_id = fields.String(required=True)
    permissions = fields.Nested(Permissions, required=True)
    changed_by = fields.String(required=True)


class UserDisabled(Schema):
    user_id = fields.String(required=True)
    disabled_by = fields.String(required=True)
    # a unit's account (用人单位): the unit, which signing stops dealing with
    employer_id = fields.String(allow_none=True)


class UserEnabled(Schema):
    user_id = fields.String(required=True)
    enabled_by = fields.String(required=True)
    employer_id = fields.String(allow_none=True)


class UserRenamed(Schema):
    user_id = fields.String(required=True)
    display_name = fields.String(required=True)
    changed_by = fields.String(required=True)


class UserPasswordReset(Schema):  # never the password, nor its hash
    user_id = fields.String(required=True)
    reset_by = fields.String(required=True)


class GraduateActivated(Schema):
    user_id = fields.String(required=True)
    graduate = fields.String(required=True)  # the graduate record's id in records
    school = fields.String(required=True)


class GraduateCodeReissued(Schema):  # never the code, nor its hash
    user_id = fields.String(required=True)
    graduate = fields.String(required=True)  # the graduate record's id in records
    school = fields.String(required=True)
    reissued_by = fields.String(required=True)
    # the graduate had activated (and forgot its password): the password is gone, its tokens revoked
    password_cleared = fields.Boolean(required=True)


class ModuleEnabled(Schema):
    province = fields.String(required=True)
    module = fields.String(required=True, validate=validate.OneOf(MODULES))
    enabled_by = fields.String(required=True)


class AgreementTypeSet(Schema):
    school_code = fields.String(required=True)
    province = fields.String(required=True)
    agreement_type = fields.String(required=True, validate=validate.OneOf(AGREEMENT_TYPES))
    set_by = fields.String(required=True)


_TYPES = {
    SCHOOL_CREATED: (SchoolCreated, "A school joined the platform."),
    DEPARTMENT_CREATED: (DepartmentCreated, "A department (院系) of a school was created."),
    EMPLOYER_REGISTERED: (EmployerRegistered, "An employer registered itself."),
    EMPLOYER_UPDATED: (EmployerRegistered, "An employer changed its unit's data (all of it, the newest version)."),
    USER_CREATED: (UserCreated, "An account was created."),
    USER_PERMISSIONS_CHANGED: (UserPermissionsChanged, "A school or department account's module rights changed."),
    USER_DISABLED: (UserDisabled, "An account was disabled."),
    USER_ENABLED: (UserEnabled, "A disabled account was enabled again by its manager."),
    USER_RENAMED: (UserRenamed, "An account's display name was changed by its manager."),
    USER_PASSWORD_RESET: (UserPasswordReset, "An account's password was reset by its manager (tokens revoked)."),
    GRADUATE_ACTIVATED: (GraduateActivated, "A graduate activated its account."),
    GRADUATE_CODE_REISSUED: (GraduateCodeReissued, "A school handed one graduate a new activation code (a "
                                                   "lost code or a forgotten password; tokens revoked then)."),
    MODULE_ENABLED: (ModuleEnabled, "A province switched a module on (irreversible)."),
    AGREEMENT_TYPE_SET: (AgreementTypeSet, "A school's e-agreement type (new invitations use it)."),
}
for _name, (_schema, _description) in _TYPES.items():
    if _name not in catalogue:
        catalogue.register(_name, _schema, version=1, description=_description)
