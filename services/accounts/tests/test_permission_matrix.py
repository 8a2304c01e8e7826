"""The permission matrix: every 账号管理 and 功能设置 endpoint, called by every role.

Targets are in 广东 (44): 中山大学 (10558) and its 计算机学院. The callers: the admin, a provincial user
of 44 and one of 北京 (11), a school user of 中山大学 and one of 华南理工大学 (another school of 44), a
department user of 计算机学院, a graduate, an employer, and nobody (no token: 401 everywhere).

Expected: 2xx where allowed; 403 for a role that may not call the endpoint at all and for acting
within a scope the caller does not hold (creating in another province or school, switching another
province's modules); 404 for reading, or changing an account, outside the caller's scope.

One world per database backend, shared by the whole table: a case that changes something works on a
fresh object of its own (a new code, a new account), so the cases do not depend on their order.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from quxiang.accounts.adapters import repository
from quxiang.accounts.bootstrap import SERVICE
from quxiang.accounts.domain.model import Department, School, User, default_permissions
from quxiang.accounts.entrypoints.context import EXTENSION_KEY
from quxiang.accounts.service import settings
from quxiang.common.auth.principal import Module, Role, Scope
from quxiang.common.migrations import upgrade
from quxiang.common.testing.plugin import make_test_config

from .helpers import principal_of, token_for

ZSU, SCUT, PKU = "10558", "10561", "10001"
CALLERS = ("admin", "province", "other_province", "school", "other_school", "department", "graduate", "employer")
PERMISSIONS = {"employment": "read", "archive": "none", "hukou": "none"}


class World:
    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.service = app.extensions[EXTENSION_KEY]
        self._serial = itertools.count(20000)
        with self.service.unit_of_work() as uow:
            schools = ((ZSU, "中山大学", "44"), (SCUT, "华南理工大学", "44"), (PKU, "北京大学", "11"))
            for code, name, province in schools:
                repository.add_school(uow.session, School(code=code, name=name, province=province))
            self.department = Department(id=str(uuid.uuid4()), school_code=ZSU, code="CS", name="计算机学院")
            repository.add_department(uow.session, self.department)
            uow.commit()
        self.users = {
            "admin": self.user(Role.ADMIN),
            "province": self.user(Role.PROVINCE, province="44"),
            "other_province": self.user(Role.PROVINCE, province="11"),
            "school": self.user(Role.SCHOOL, province="44", school=ZSU),
            "other_school": self.user(Role.SCHOOL, province="44", school=SCUT),
            "department": self.user(Role.DEPARTMENT, province="44", school=ZSU, department=self.department.id),
            "graduate": self.user(Role.GRADUATE, province="44", school=ZSU, department=self.department.id,
                                  graduate="g-1"),
            "employer": self.user(Role.EMPLOYER, employer="e-1"),
        }
        self.tokens = {name: token_for(self.service, user) for name, user in self.users.items()}
        # Agreement types can only be changed once 毕业去向登记与网签 is on.
        settings.enable_module(self.service, principal_of(self.users["province"]), "44", Module.EMPLOYMENT,
                               agreement_type="three_party")

    def user(self, role: Role, **scope: str) -> User:
        """An account put straight into the database (no password: the matrix mints tokens)."""
        user = User(id=str(uuid.uuid4()), username=self.username(), role=role, display_name=role.value,
                    scope=Scope(**scope), permissions=default_permissions(role))
        with self.service.unit_of_work() as uow:
            repository.add_user(uow.session, user, created_by=None)
            uow.commit()
        return user

    def code(self) -> str:
        return str(next(self._serial))

    def username(self) -> str:
        return f"u{uuid.uuid4().hex[:10]}"

    def school_account(self) -> str:
        return self.user(Role.SCHOOL, province="44", school=ZSU).id

    def department_account(self) -> str:
        return self.user(Role.DEPARTMENT, province="44", school=ZSU, department=self.department.id).id

    def province_account(self) -> str:
        return self.user(Role.PROVINCE, province="44").id

    def new_account(self, **body: object) -> dict:
        return {"username": self.username(), "display_name": "新账号", "password": "Passw0rd!", **body}


@dataclass(frozen=True)
class Case:
    method: str
    rule: str  # the URL rule as registered, to check that the table covers every endpoint
    build: Callable[[World], tuple[str, dict | None]]  # the path to call and the JSON body
    expected: dict[str, int]

    @property
    def name(self) -> str:
        return f"{self.method} {self.rule}"


def allowed(default: int = 403, **statuses: int) -> dict[str, int]:
    unknown = set(statuses) - set(CALLERS)
    assert not unknown, unknown
    return {caller: statuses.get(caller, default) for caller in CALLERS}


READ_SCHOOL = allowed(admin=200, province=200, other_province=404, school=200, other_school=404, department=200)
READ_MODULES = allowed(admin=200, province=200, other_province=404, school=200, other_school=200, department=200)
MANAGE_SCHOOL_ACCOUNT = allowed(admin=200, province=200, other_province=404)
MANAGE_DEPARTMENT_ACCOUNT = allowed(admin=200, school=200, other_school=404)
SWITCH_OFF = allowed(admin=409, province=409)

CASES = [
    # organisations
    Case("POST", "/schools", lambda w: ("/schools", {"code": w.code(), "name": "新学校", "province": "44"}),
         allowed(admin=201, province=201)),
    Case("GET", "/schools", lambda w: ("/schools", None),
         allowed(admin=200, province=200, other_province=200, school=200, other_school=200, department=200)),
    Case("GET", "/schools/<code>", lambda w: (f"/schools/{ZSU}", None), READ_SCHOOL),
    Case("POST", "/schools/<school_code>/departments",
         lambda w: (f"/schools/{ZSU}/departments", {"code": f"D{w.code()}", "name": "新院系"}),
         allowed(admin=201, school=201)),
    Case("GET", "/schools/<school_code>/departments", lambda w: (f"/schools/{ZSU}/departments", None), READ_SCHOOL),
    # school accounts
    Case("GET", "/school-accounts", lambda w: ("/school-accounts", None),
         allowed(admin=200, province=200, other_province=200)),
    Case("POST", "/school-accounts", lambda w: ("/school-accounts", w.new_account(school_code=ZSU)),
         allowed(admin=201, province=201)),
    Case("GET", "/school-accounts/<user_id>", lambda w: (f"/school-accounts/{w.school_account()}", None),
         MANAGE_SCHOOL_ACCOUNT),
    Case("PUT", "/school-accounts/<user_id>/permissions",
         lambda w: (f"/school-accounts/{w.school_account()}/permissions", PERMISSIONS), MANAGE_SCHOOL_ACCOUNT),
    Case("POST", "/school-accounts/<user_id>/disable",
         lambda w: (f"/school-accounts/{w.school_account()}/disable", None), MANAGE_SCHOOL_ACCOUNT),
    Case("POST", "/school-accounts/<user_id>/enable",
         lambda w: (f"/school-accounts/{w.school_account()}/enable", None), MANAGE_SCHOOL_ACCOUNT),
    Case("PUT", "/school-accounts/<user_id>",
         lambda w: (f"/school-accounts/{w.school_account()}", {"display_name": "改名"}), MANAGE_SCHOOL_ACCOUNT),
    Case("POST", "/school-accounts/<user_id>/password",
         lambda w: (f"/school-accounts/{w.school_account()}/password", {"new_password": "Reset-2026-pass"}),
         allowed(admin=204, province=204, other_province=404)),
    # department accounts
    Case("GET", "/department-accounts", lambda w: ("/department-accounts", None),
         allowed(admin=200, school=200, other_school=200)),
    Case("POST", "/department-accounts",
         lambda w: ("/department-accounts", w.new_account(department_id=w.department.id)),
         allowed(admin=201, school=201)),
    Case("GET", "/department-accounts/<user_id>",
         lambda w: (f"/department-accounts/{w.department_account()}", None), MANAGE_DEPARTMENT_ACCOUNT),
    Case("PUT", "/department-accounts/<user_id>/permissions",
         lambda w: (f"/department-accounts/{w.department_account()}/permissions", PERMISSIONS),
         MANAGE_DEPARTMENT_ACCOUNT),
    Case("POST", "/department-accounts/<user_id>/disable",
         lambda w: (f"/department-accounts/{w.department_account()}/disable", None), MANAGE_DEPARTMENT_ACCOUNT),
    Case("POST", "/department-accounts/<user_id>/enable",
         lambda w: (f"/department-accounts/{w.department_account()}/enable", None), MANAGE_DEPARTMENT_ACCOUNT),
    Case("PUT", "/department-accounts/<user_id>",
         lambda w: (f"/department-accounts/{w.department_account()}", {"display_name": "改名"}),
         MANAGE_DEPARTMENT_ACCOUNT),
    Case("POST", "/department-accounts/<user_id>/password",
         lambda w: (f"/department-accounts/{w.department_account()}/password", {"new_password": "Reset-2026-pass"}),
         allowed(admin=204, school=204, other_school=404)),
    # provincial accounts
    Case("GET", "/province-accounts", lambda w: ("/province-accounts", None), allowed(admin=200)),
    Case("POST", "/province-accounts", lambda w: ("/province-accounts", w.new_account(province="44")),
         allowed(admin=201)),
    Case("POST", "/province-accounts/<user_id>/disable",
         lambda w: (f"/province-accounts/{w.province_account()}/disable", None), allowed(admin=200)),
    # function settings
    Case("GET", "/provinces/<province>/modules", lambda w: ("/provinces/44/modules", None), READ_MODULES),
    Case("GET", "/provinces/<province>/modules/<module>", lambda w: ("/provinces/44/modules/archive", None),
         READ_MODULES),
    Case("POST", "/provinces/<province>/modules/<module>/enable",
         lambda w: ("/provinces/44/modules/archive/enable", None), allowed(admin=200, province=200)),
    Case("PUT", "/provinces/<province>/modules/<module>",
         lambda w: ("/provinces/44/modules/hukou", {"enabled": True}), allowed(admin=200, province=200)),
    Case("PATCH", "/provinces/<province>/modules/<module>",
         lambda w: ("/provinces/44/modules/hukou", {"enabled": False}), SWITCH_OFF),
    Case("POST", "/provinces/<province>/modules/<module>/disable",
         lambda w: ("/provinces/44/modules/hukou/disable", None), SWITCH_OFF),
    Case("DELETE", "/provinces/<province>/modules/<module>", lambda w: ("/provinces/44/modules/hukou", None),
         SWITCH_OFF),
    Case("PUT", "/schools/<school_code>/agreement-type",
         lambda w: (f"/schools/{ZSU}/agreement-type", {"agreement_type": "two_party"}),
         allowed(admin=200, province=200)),
    Case("GET", "/provinces/<province>/school-settings", lambda w: ("/provinces/44/school-settings", None),
         allowed(admin=200, province=200, other_province=404)),
]
# Switching off by PUT is a case of its own, besides PATCH: every way of asking is in the table.
CASES.append(Case("PUT", "/provinces/<province>/modules/<module>#off",
                  lambda w: ("/provinces/44/modules/hukou", {"enabled": False}), SWITCH_OFF))


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def world(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("matrix")
    if request.param == "postgresql":
        postgres = request.getfixturevalue("postgres")
        url = postgres.create_database()
    else:
        url = f"sqlite:///{data_dir}/accounts.db"
    config = make_test_config("accounts", url, "embedded", data_dir)
    upgrade(config, SERVICE)
    app = SERVICE.create_app(config)
    yield World(app)
    app.extensions[EXTENSION_KEY].engine.dispose()
    if request.param == "postgresql":
        postgres.drop_database(url)


@pytest.mark.parametrize("caller", [*CALLERS, "anonymous"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_role_against_every_endpoint(world, case, caller):
    path, body = case.build(world)
    headers = {} if caller == "anonymous" else {"Authorization": f"Bearer {world.tokens[caller]}"}
    answer = world.client.open(path, method=case.method, json=body, headers=headers)
    expected = 401 if caller == "anonymous" else case.expected[caller]
    assert answer.status_code == expected, (case.name, caller, answer.get_json())
    if expected >= 400:
        assert answer.mimetype == "application/problem+json"
    if expected == 409:
        assert answer.get_json()["code"] == "module_irreversible"


def test_the_matrix_covers_every_management_and_settings_endpoint(world):
    registered = {(method, rule.rule) for rule in world.app.url_map.iter_rules()
                  if rule.endpoint.split(".")[0] in ("management", "settings")
                  for method in rule.methods - {"HEAD", "OPTIONS"}}
    covered = {(c.method, c.rule.split("#")[0]) for c in CASES}
    assert registered == covered
