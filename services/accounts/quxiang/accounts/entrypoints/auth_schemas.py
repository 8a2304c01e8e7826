"""Request and response bodies of the login, token, activation and employer endpoints.

Input is checked here, at the boundary, so bad input answers 422 naming the field: the credit code's
check character, the code tables, the region code, lengths, password strength.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from quxiang.accounts.service.passwords import MAX_LENGTH, password_problem
from quxiang.common.reference import UnknownCode, employer_natures, industries, validate_region_code
from quxiang.common.validators import InvalidIdentifier, validate_credit_code
from quxiang.common.web.text_fields import OneLine


class Text(fields.String):
    """A string without the surrounding blanks that forms and spreadsheets add."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


def _text(low: int, high: int, **kwargs: Any) -> Text:
    return Text(required=True, validate=validate.Length(min=low, max=high), **kwargs)


def _one_line(low: int, high: int, **kwargs: Any) -> OneLine:
    return OneLine(required=True, validate=validate.Length(min=low, max=high), **kwargs)


class CreditCode(fields.String):
    """统一社会信用代码, normalised (upper case, ASCII) and checked down to its check character."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            return validate_credit_code(super()._deserialize(value, attr, data, **kwargs))
        except InvalidIdentifier as exc:
            raise ValidationError(str(exc)) from None


class RegionCode(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            return validate_region_code(super()._deserialize(value, attr, data, **kwargs), "单位所在地")
        except UnknownCode as exc:
            raise ValidationError(str(exc)) from None


def _in_table(table: Any, label: str) -> validate.Validator:
    def check(value: str) -> None:
        try:
            table().require(value, label)
        except UnknownCode as exc:
            raise ValidationError(str(exc)) from None
    return check  # type: ignore[return-value]


def _password_without(username: str | None, password: str | None) -> None:
    """The account's own username inside its password is the first thing anyone tries."""
    if username and password and username.casefold() in password.casefold():
        raise ValidationError("密码不能包含用户名（或考生号）", field_name="password")


def _strong_password(value: str) -> None:
    problem = password_problem(value)
    if problem is not None:
        raise ValidationError(problem)


def _new_password() -> fields.String:
    return fields.String(required=True, validate=_strong_password, metadata={
        "description": "至少 8 位，同时包含字母和数字"})


USERNAME = validate.Regexp(r"^[A-Za-z0-9_.@-]{3,64}$", error="用户名为 3-64 位字母、数字或 _ . @ -")
# A graduate's username is the 考生号 (digits): a unit registering itself cannot take one first, or
# that graduate's account could never be made.
def not_an_exam_number(value: str) -> None:
    if value.isascii() and value.isdigit():
        raise ValidationError("用户名不能全为数字（全数字的用户名留给毕业生的考生号）")
PHONE = validate.Regexp(r"^\+?[0-9][0-9 -]{4,28}[0-9]$", error="联系电话格式不正确")


class JwksSchema(Schema):
    keys = fields.List(fields.Dict(), metadata={"description": "OKP/Ed25519 public keys, each with its kid"})


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_LENGTH), load_only=True)


class TokensSchema(Schema):
    access_token = fields.String(metadata={"description": "EdDSA JWT; send as Authorization: Bearer"})
    token_type = fields.String(metadata={"example": "Bearer"})
    expires_in = fields.Integer(metadata={"description": "access token lifetime in seconds"})
    refresh_token = fields.String(metadata={"description": "one use: POST /auth/refresh returns the next"})
    refresh_expires_in = fields.Integer(metadata={"description": "refresh token lifetime in seconds"})


class RefreshSchema(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_LENGTH))
    new_password = _new_password()


class ProfileSchema(Schema):
    id = fields.String()
    username = fields.String()
    role = fields.String()
    role_label = fields.String()
    display_name = fields.String()
    scope = fields.Dict(keys=fields.String(), values=fields.String())
    permissions = fields.Dict(keys=fields.String(), values=fields.String())
    disabled = fields.Boolean()


class ActivationSchema(Schema):
    exam_number = _text(1, 20, metadata={"description": "考生号"})
    activation_code = _text(1, 20, metadata={"description": "学校发放的激活码"})
    password = _new_password()

    @validates_schema
    def _password_without_exam_number(self, data: dict, **_: object) -> None:
        _password_without(data.get("exam_number"), data.get("password"))


class ActivatedSchema(Schema):
    user_id = fields.String()
    username = fields.String(metadata={"description": "登录用户名（考生号）"})


class IssueQuerySchema(Schema):
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000),
                           metadata={"description": "at most this many codes per call; call again while remaining > 0"})


class IssuedCodeSchema(Schema):
    graduate_id = fields.String()
    exam_number = fields.String()
    name = fields.String()
    department_id = fields.String(allow_none=True)
    activation_code = fields.String()


class IssuedCodesSchema(Schema):
    school_code = fields.String()
    codes = fields.List(fields.Nested(IssuedCodeSchema), metadata={
        "description": "shown this once: only their hashes are kept"})
    remaining = fields.Integer(metadata={"description": "codes still to hand out"})


class ReissuedCodeSchema(IssuedCodeSchema):
    school_code = fields.String()
    password_cleared = fields.Boolean(metadata={
        "description": "the graduate had activated: its password and sessions are gone until it activates again"})


class EmployerUpdateSchema(Schema):
    """The unit's own data, all of it (its 统一社会信用代码 is the unit and does not change)."""

    name = _one_line(1, 100, metadata={"description": "单位名称"})
    nature = fields.String(required=True, validate=_in_table(employer_natures, "单位性质"),
                           metadata={"description": "单位性质代码"})
    industry = fields.String(required=True, validate=_in_table(industries, "单位行业"),
                             metadata={"description": "单位行业代码"})
    region = RegionCode(required=True, metadata={"description": "单位所在地 (6 位行政区划代码)"})
    address = _one_line(1, 200)
    contact_name = _one_line(1, 50)
    contact_phone = Text(required=True, validate=PHONE)


class EmployerRegistrationSchema(EmployerUpdateSchema):
    """The unit's data, its credit code, and its account."""

    credit_code = CreditCode(required=True, metadata={"description": "统一社会信用代码 (18 位)"})
    username = Text(required=True, validate=[USERNAME, not_an_exam_number])
    password = _new_password()

    @validates_schema
    def _password_without_username(self, data: dict, **_: object) -> None:
        _password_without(data.get("username"), data.get("password"))


class EmployerSchema(Schema):
    id = fields.String()
    credit_code = fields.String()
    name = fields.String()
    nature = fields.String()
    nature_label = fields.String()
    industry = fields.String()
    industry_label = fields.String()
    region = fields.String()
    address = fields.String()
    contact_name = fields.String()
    contact_phone = fields.String()
    version = fields.Integer()


class EmployerRegisteredSchema(Schema):
    employer = fields.Nested(EmployerSchema)
    user_id = fields.String()
    username = fields.String()
