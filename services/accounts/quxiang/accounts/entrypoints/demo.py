"""Demo data: a province with schools, departments, users of every role and module settings.

    qx-accounts demo            (or: python -m quxiang.accounts.entrypoints.demo)

Creates, if missing, and through the same use cases the API calls (so every change is recorded as
an event, as if people had clicked through the console):

- 广东省 (44) with the provincial user ``demo-gd``;
- 中山大学 10558, 华南理工大学 10561, 华南师范大学 10574, each with a school user whose module
  permissions differ (all read-write; archive read-only; the default employment-only) and two
  departments, each with a department user;
- an employer, 广州示例信息科技有限公司, with the user ``demo-employer``;
- 毕业去向登记与网签 switched on with 三方协议 as the default and 华南师范大学 on 两方协议, and
  档案信息登记 switched on (户口信息登记 stays off);
- the platform administrator ``demo-admin``.

Every demo login has the password ``Demo2026!`` (``DEMO_PASSWORD``). Running it again changes
nothing and prints the same table. Graduates come from a roster import (records), not from here.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from quxiang.accounts.adapters import repository
from quxiang.accounts.bootstrap import SERVICE, build_accounts
from quxiang.accounts.domain.model import AgreementType, User
from quxiang.accounts.service import management, settings
from quxiang.accounts.service.context import Accounts
from quxiang.accounts.service.employers import Registration, register_employer
from quxiang.common.auth.principal import ACCESS_LABELS, ROLE_LABELS, Access, Module, Principal, Role
from quxiang.common.config import Config, load_config
from quxiang.common.migrations import upgrade
from quxiang.common.validators import make_credit_code

DEMO_PASSWORD = "Demo2026!"  # noqa: S105 - the documented password of the demo logins, nothing else
PROVINCE = "44"

W, R, N = Access.WRITE, Access.READ, Access.NONE


@dataclass(frozen=True)
class DemoSchool:
    code: str
    name: str
    username: str
    permissions: Mapping[Module, Access]
    departments: Sequence[tuple[str, str, Mapping[Module, Access]]]  # code, name, permissions


SCHOOLS = (
    DemoSchool("10558", "中山大学", "demo-zsu",
               {Module.EMPLOYMENT: W, Module.ARCHIVE: W, Module.HUKOU: W},
               (("CS", "计算机学院", {Module.EMPLOYMENT: W, Module.ARCHIVE: W, Module.HUKOU: R}),
                ("LAW", "法学院", {Module.EMPLOYMENT: R, Module.ARCHIVE: N, Module.HUKOU: N}))),
    DemoSchool("10561", "华南理工大学", "demo-scut",
               {Module.EMPLOYMENT: W, Module.ARCHIVE: R, Module.HUKOU: N},
               (("SE", "软件学院", {Module.EMPLOYMENT: W, Module.ARCHIVE: R, Module.HUKOU: N}),
                ("ME", "机械与汽车工程学院", {Module.EMPLOYMENT: W, Module.ARCHIVE: N, Module.HUKOU: N}))),
    DemoSchool("10574", "华南师范大学", "demo-scnu",
               {Module.EMPLOYMENT: W, Module.ARCHIVE: N, Module.HUKOU: N},
               (("EDU", "教育科学学院", {Module.EMPLOYMENT: W, Module.ARCHIVE: N, Module.HUKOU: N}),
                ("MATH", "数学科学学院", {Module.EMPLOYMENT: R, Module.ARCHIVE: N, Module.HUKOU: N}))),
)
AGREEMENT_DEFAULT = AgreementType.THREE_PARTY
AGREEMENT_OVERRIDES = {"10574": AgreementType.TWO_PARTY}
EMPLOYER = Registration(
    credit_code=make_credit_code("91440106MA59DEMX1"), name="广州示例信息科技有限公司", nature="39", industry="34",
    region="440106", address="广州市天河区天河路 1 号", contact_name="王经理", contact_phone="020-12345678",
    username="demo-employer", password=DEMO_PASSWORD)


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    username: str
    scope: str
    permissions: str


def _principal(user: User) -> Principal:
    return Principal(user.id, user.role, user.scope, user.permissions)


def _user(service: Accounts, username: str) -> User | None:
    with service.unit_of_work() as uow:
        return repository.get_user_by_username(uow.session, username)


def _ensure_account(service: Accounts, actor: Principal | None, role: Role, username: str, display_name: str,
                    **kwargs: object) -> User:
    user = _user(service, username)
    if user is None:
        if actor is None:
            management.create_admin(service, username=username, display_name=display_name, password=DEMO_PASSWORD)
        else:
            management.create_account(service, actor, role, username=username, display_name=display_name,
                                      password=DEMO_PASSWORD, **kwargs)  # type: ignore[arg-type]
        user = _user(service, username)
    assert user is not None and user.role is role, f"{username} exists with another role"
    return user


def run_demo(config: Config, *, out: TextIO | None = None, migrate: bool = True) -> list[DemoLogin]:
    """Create the demo data if missing and print the logins; returns them."""
    if migrate:
        upgrade(config, SERVICE)
    service = build_accounts(config)
    try:
        logins = _populate(service)
    finally:
        service.engine.dispose()
    print_logins(logins, out or sys.stdout)
    return logins


def _populate(service: Accounts) -> list[DemoLogin]:
    logins: list[DemoLogin] = []
    admin = _ensure_account(service, None, Role.ADMIN, "demo-admin", "平台管理员（演示）")
    logins.append(DemoLogin(Role.ADMIN, admin.username, "全平台", "-"))

    province = _ensure_account(service, _principal(admin), Role.PROVINCE, "demo-gd", "广东省教育厅（演示）",
                               province=PROVINCE)
    logins.append(DemoLogin(Role.PROVINCE, province.username, "广东省", "-"))
    as_province = _principal(province)

    for school in SCHOOLS:
        with service.unit_of_work() as uow:
            exists = repository.get_school(uow.session, school.code) is not None
        if not exists:
            management.create_school(service, as_province, code=school.code, name=school.name, province=PROVINCE)
        school_user = _ensure_account(service, as_province, Role.SCHOOL, school.username,
                                      f"{school.name}就业指导中心", school_code=school.code,
                                      permissions=school.permissions)
        logins.append(DemoLogin(Role.SCHOOL, school_user.username, school.name, _permissions(school_user)))
        as_school = _principal(school_user)
        for code, name, permissions in school.departments:
            with service.unit_of_work() as uow:
                department = repository.get_department_by_code(uow.session, school.code, code)
            if department is None:
                department = management.create_department(service, as_school, school.code, code=code, name=name)
            department_user = _ensure_account(service, as_school, Role.DEPARTMENT,
                                              f"{school.username}-{code.lower()}", f"{school.name}{name}",
                                              department_id=department.id, permissions=permissions)
            logins.append(DemoLogin(Role.DEPARTMENT, department_user.username, f"{school.name} {name}",
                                    _permissions(department_user)))

    employer = _user(service, EMPLOYER.username)
    if employer is None:
        with service.unit_of_work() as uow:
            register_employer(uow, EMPLOYER)
    logins.append(DemoLogin(Role.EMPLOYER, EMPLOYER.username, EMPLOYER.name, "-"))

    # After the schools exist, so switching employment on sets each school's agreement type.
    settings.enable_module(service, as_province, PROVINCE, Module.EMPLOYMENT, agreement_type=AGREEMENT_DEFAULT.value,
                           overrides={code: kind.value for code, kind in AGREEMENT_OVERRIDES.items()})
    settings.enable_module(service, as_province, PROVINCE, Module.ARCHIVE)
    return logins


def _permissions(user: User) -> str:
    return " ".join(f"{m.value}:{ACCESS_LABELS[user.permissions.get(m, Access.NONE)]}" for m in Module)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def print_logins(logins: Sequence[DemoLogin], out: TextIO) -> None:
    rows = [("角色 role", "用户名 username", "密码 password", "范围 scope", "模块权限 permissions")]
    rows += [(f"{ROLE_LABELS[x.role]} {x.role.value}", x.username, DEMO_PASSWORD, x.scope, x.permissions)
             for x in logins]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    print("Demo logins (province 44 广东省; 毕业去向登记与网签 and 档案信息登记 on):", file=out)
    for index, row in enumerate(rows):
        print("  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip(), file=out)
        if index == 0:
            print("  ".join("-" * w for w in widths), file=out)


def main(argv: Sequence[str] | None = None) -> int:
    """Create the demo data in the database the environment configures (QX_DATABASE_URL, ...)."""
    del argv
    run_demo(load_config("accounts"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
