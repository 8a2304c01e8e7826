"""Who is calling, and what an object's scope is: plain values, no framework."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"            # 平台管理员
    PROVINCE = "province"      # 省级用户
    SCHOOL = "school"          # 学校用户
    DEPARTMENT = "department"  # 院系用户
    GRADUATE = "graduate"      # 毕业生
    EMPLOYER = "employer"      # 用人单位


ROLE_LABELS = {
    Role.ADMIN: "平台管理员", Role.PROVINCE: "省级用户", Role.SCHOOL: "学校用户",
    Role.DEPARTMENT: "院系用户", Role.GRADUATE: "毕业生", Role.EMPLOYER: "用人单位",
}


class Module(StrEnum):
    EMPLOYMENT = "employment"  # 基本信息和就业信息 / 毕业去向登记与网签
    ARCHIVE = "archive"        # 档案信息
    HUKOU = "hukou"            # 户口信息


# The modules as 账号管理 names them beside a permission: also the words of a refusal, so that it
# points at the setting to ask for.
PERMISSION_MODULE_LABELS = {
    Module.EMPLOYMENT: "基本信息和就业信息", Module.ARCHIVE: "档案信息", Module.HUKOU: "户口信息",
}


class Access(StrEnum):
    NONE = "none"    # 无权限
    READ = "read"    # 只读
    WRITE = "write"  # 读写

    def allows(self, needed: Access) -> bool:
        order = {Access.NONE: 0, Access.READ: 1, Access.WRITE: 2}
        return order[self] >= order[needed]


ACCESS_LABELS = {Access.NONE: "无权限", Access.READ: "只读", Access.WRITE: "读写"}
# A school account that existed before module permissions: employment read-write, the rest none.
DEFAULT_PERMISSIONS: Mapping[Module, Access] = {
    Module.EMPLOYMENT: Access.WRITE, Module.ARCHIVE: Access.NONE, Module.HUKOU: Access.NONE,
}
# Roles whose rights per module are set by account management; the others are defined by their role.
PERMISSIONED_ROLES = frozenset({Role.SCHOOL, Role.DEPARTMENT})


@dataclass(frozen=True)
class Scope:
    """Where an object belongs. Unknown parts stay None."""

    province: str | None = None
    school: str | None = None
    department: str | None = None
    graduate: str | None = None
    employer: str | None = None


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: Role
    scope: Scope
    permissions: Mapping[Module, Access] = field(default_factory=dict)
    issued_at: float = 0.0
    token_id: str | None = None

    def access_to(self, module: Module) -> Access:
        if self.role in PERMISSIONED_ROLES:
            return self.permissions.get(module, Access.NONE)
        return Access.WRITE  # provinces, graduates, employers: what they may do is decided by role

    def covers(self, scope: Scope) -> bool:
        """Whether ``scope`` lies within this caller's own scope."""
        mine = self.scope
        if self.role is Role.ADMIN:
            return True
        if self.role is Role.PROVINCE:
            return mine.province is not None and scope.province == mine.province
        if self.role is Role.SCHOOL:
            return mine.school is not None and scope.school == mine.school
        if self.role is Role.DEPARTMENT:
            return (mine.department is not None and scope.department == mine.department
                    and scope.school == mine.school)
        if self.role is Role.GRADUATE:
            return mine.graduate is not None and scope.graduate == mine.graduate
        return mine.employer is not None and scope.employer == mine.employer
