"""Organisations, users and the province's function settings, as plain values and rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from quxiang.common.auth.principal import DEFAULT_PERMISSIONS, PERMISSIONED_ROLES, Access, Module, Role, Scope


class DomainError(Exception):
    """A rule was broken. ``code`` is stable; ``message`` is for people (Chinese)."""

    status = 422

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class Conflict(DomainError):
    status = 409


class NotFound(DomainError):
    status = 404


class AgreementType(StrEnum):
    TWO_PARTY = "two_party"      # 两方协议: employer and graduate; the school attests (鉴证)
    THREE_PARTY = "three_party"  # 三方协议: employer, graduate and school; the school reviews (审核)


AGREEMENT_TYPE_LABELS = {AgreementType.TWO_PARTY: "两方协议", AgreementType.THREE_PARTY: "三方协议"}
MODULE_LABELS = {Module.EMPLOYMENT: "毕业去向登记与网签", Module.ARCHIVE: "档案信息登记", Module.HUKOU: "户口信息登记"}

# Who creates and manages which accounts (账号管理).
MANAGES: Mapping[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset({Role.PROVINCE, Role.SCHOOL, Role.DEPARTMENT}),
    Role.PROVINCE: frozenset({Role.SCHOOL}),
    Role.SCHOOL: frozenset({Role.DEPARTMENT}),
}


@dataclass
class School:
    code: str
    name: str
    province: str


@dataclass
class Department:
    id: str
    school_code: str
    code: str
    name: str


# What a unit may change about itself: everything but the credit code that identifies it.
EMPLOYER_EDITABLE = ("name", "nature", "industry", "region", "address", "contact_name", "contact_phone")


@dataclass
class Employer:
    id: str
    credit_code: str
    name: str
    nature: str
    industry: str
    region: str
    address: str
    contact_name: str
    contact_phone: str
    version: int = 1  # the unit's sequence in its events (registered, then each change)

    def change(self, values: Mapping[str, str]) -> bool:
        """Take the unit's new data (never its 统一社会信用代码, which is the unit); True if any changed."""
        changed = {k: v for k, v in values.items() if k in EMPLOYER_EDITABLE and getattr(self, k) != v}
        if not changed:
            return False
        for name, value in changed.items():
            setattr(self, name, value)
        self.version += 1
        return True


@dataclass
class User:
    id: str
    username: str
    role: Role
    display_name: str
    scope: Scope
    permissions: dict[Module, Access] = field(default_factory=dict)
    password_hash: str | None = None
    disabled: bool = False
    version: int = 1  # the aggregate's sequence in its events

    def change_permissions(self, permissions: Mapping[Module, Access]) -> bool:
        """True if anything changed; only school and department accounts carry module rights."""
        if self.role not in PERMISSIONED_ROLES:
            raise DomainError("permissions_not_applicable", "只有学校和院系账号有模块权限")
        new = {m: permissions.get(m, self.permissions.get(m, Access.NONE)) for m in Module}
        if new == self.permissions:
            return False
        self.permissions = new
        self.version += 1
        return True

    def disable(self) -> bool:
        if self.disabled:
            return False
        self.disabled = True
        self.version += 1
        return True

    def enable(self) -> bool:
        if not self.disabled:
            return False
        self.disabled = False
        self.version += 1
        return True

    def rename(self, display_name: str) -> bool:
        if display_name == self.display_name:
            return False
        self.display_name = display_name
        self.version += 1
        return True

    def reset_password(self, password_hash: str) -> None:
        self.password_hash = password_hash
        self.version += 1

    def forget_password(self) -> None:
        """No password until the holder activates again (a graduate given a new code)."""
        self.password_hash = None
        self.version += 1

    @property
    def can_log_in(self) -> bool:
        return not self.disabled and self.password_hash is not None


def default_permissions(role: Role) -> dict[Module, Access]:
    return dict(DEFAULT_PERMISSIONS) if role in PERMISSIONED_ROLES else {}


def may_manage(manager: Role, managed: Role) -> bool:
    return managed in MANAGES.get(manager, frozenset())


def refuse_switching_off(module: Module) -> Conflict:
    return Conflict("module_irreversible", f"{MODULE_LABELS[module]}一经开启不可关闭", module=module.value)
