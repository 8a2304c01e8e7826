"""The fault suite's steady workload: whole flows of graduates through the gateway, as people do them.

One flow: the employer invites, the graduate accepts, the department and the school approve (网签);
the graduate submits the archive transfer, the department and the school approve it (档案); the
graduate submits the hukou transfer and the school approves it (户口). Every step is retried while the
platform answers 502/503/504 or the connection fails (a fault is going on); a 409 after such a retry
is accepted only when the resource is already where the step would have put it. Anything else ends
the flow as failed. What the platform confirmed is the flow's record: the checker's "expected"."""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from quxiang.common.testing.stack_run import Gateway, eventually
from quxiang.common.times import latest_deadline
from quxiang.common.validators import make_identity_number

SCHOOL = "10558"  # 中山大学; its 计算机学院 is CS in the roster and demo-zsu-cs at accounts
PASSWORD = "Faults-2026-pass"  # the test graduates' password
TERMS = {"position_category": "10", "job_title": "软件工程师", "work_region": "440106", "work_place": "广州市天河区",
         "monthly_salary": 12000, "contract_months": 36, "probation_months": 3, "contact_person": "王经理",
         "contact_phone": "13800000000", "archive_destination": "广州市人才中心", "hukou_destination": "广州市天河区",
         "remarks": "五险一金"}
ARCHIVE = {"transfer_type": "employer", "receiving_unit": "广州示例信息科技有限公司", "address": "广州市天河区某路1号",
           "postcode": "510000", "recipient": "王经理", "phone": "13800000000"}
HUKOU = {"transfer_type": "origin", "address": "广州市越秀区某街2号"}
TRANSIENT = {502, 503, 504}
HEADER = "考生号,学号,姓名,性别,身份证号,院系,专业代码,专业名称,学历,生源所在地,毕业年份,手机号,邮箱\n"


def exam_number(i: int) -> str:
    return f"264402{i:07d}"


def roster_csv(count: int) -> str:
    rows = [HEADER]
    for i in range(count):
        identity = make_identity_number(f"44010620040{1 + i // 900 % 9}{1 + i // 30 % 28:02d}{i % 1000:03d}")
        rows.append(f"{exam_number(i)},F{i:06d},学生{i},{'男' if i % 2 else '女'},{identity},CS,080901,"
                    "计算机科学与技术,31,440106,2026,,\n")
    return "".join(rows)


@dataclass
class Graduate:
    graduate_id: str
    exam_number: str
    name: str
    token: str


@dataclass
class Flow:
    """What one graduate's flow got from the platform."""

    graduate: Graduate
    agreement_id: str | None = None
    agreement_number: str | None = None
    transfer_number: str | None = None
    archive_approved: bool = False
    hukou_approved: bool = False
    terminate: bool = False    # the flow ends its approved agreement (解约) before the archive step
    terminated: bool = False   # ... and the platform confirmed the termination approved
    failure: str | None = None

    @property
    def complete(self) -> bool:
        return self.hukou_approved and self.failure is None


@dataclass
class Answers:
    """Status codes the workload saw during one fault (a 500 is a bug: a fault is a 503)."""

    counts: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, status: int, what: str) -> None:
        with self.lock:
            self.counts[status] += 1
            if status >= 500 and status not in TRANSIENT:
                self.errors.append(f"{status} {what}")


class StepFailed(AssertionError):
    pass


class Workload:
    def __init__(self, gateway_url: str, accounts_url: str) -> None:
        self.api = Gateway(gateway_url)
        self.direct = Gateway(accounts_url)
        self.tokens: dict[str, str] = {}
        self.waiting: list[Graduate] = []
        self.flows: list[Flow] = []
        self.answers = Answers()
        self.pool = ThreadPoolExecutor(3, thread_name_prefix="flow")
        self.step_timeout = 90.0
        # The set-up's scale (bench/bench_season.py raises them for a season's roster).
        self.setup_timeout = 90.0
        self.setup_threads = 2
        self.roster: Callable[[int], str] = roster_csv
        # What a step is tried again on: what a fault may answer (503 and the gateway's 502/504).
        self.transient = set(TRANSIENT)

    # --- set-up -----------------------------------------------------------------------------

    def set_up(self, graduates: int) -> None:
        api = self.api
        for login in ("demo-gd", "demo-zsu", "demo-zsu-cs", "demo-employer"):
            self.tokens[login] = api.login(login)
        province, school = self.tokens["demo-gd"], self.tokens["demo-zsu"]
        api.ok("POST", "/api/accounts/provinces/44/modules/employment/enable", province,
               json={"agreement_type": "three_party"})
        api.ok("POST", "/api/accounts/provinces/44/modules/archive/enable", province)
        api.ok("POST", "/api/accounts/provinces/44/modules/hukou/enable", province)
        api.ok("PUT", f"/api/accounts/schools/{SCHOOL}/agreement-type", province,
               json={"agreement_type": "three_party"})
        roster = self.roster(graduates)

        def imported() -> Any:
            response = api.call("POST", f"/api/records/schools/{SCHOOL}/roster/imports", school,
                                files={"file": ("roster.csv", io.BytesIO(roster.encode()), "text/csv")})
            assert response.status_code == 201, response.text[:300]
            return response.json()

        assert eventually(imported, "the roster import", timeout=self.setup_timeout)["created"] == graduates
        # once the province's switch-on has reached records and signing (before it: 403)
        for module in ("archive", "hukou"):
            eventually(lambda module=module: api.ok(
                "PUT", f"/api/records/schools/{SCHOOL}/settings/{module}", school,
                json={"department_review": module == "archive", "deadline": latest_deadline().isoformat()}),
                f"records takes the {module} settings", timeout=self.setup_timeout)
        eventually(lambda: api.ok("PUT", f"/api/signing/schools/{SCHOOL}/settings", school,
                                  json={"department_review": True}),
                   "signing takes the settings", timeout=self.setup_timeout)

        codes: list[dict[str, Any]] = []

        def issued() -> bool:
            codes.extend(api.ok("POST", f"/api/accounts/schools/{SCHOOL}/activation-codes/issue", school)["codes"])
            return len({c["exam_number"] for c in codes}) >= graduates

        eventually(issued, "activation codes for the roster's graduates", timeout=self.setup_timeout)
        mine = {c["exam_number"]: c for c in codes if c["exam_number"].startswith("264402")}

        def activate(code: dict[str, Any]) -> Graduate:
            # accounts directly: the gateway's login limit (1/s per address) would make this crawl
            self.direct.ok("POST", "/api/accounts/graduates/activate", json={
                "exam_number": code["exam_number"], "activation_code": code["activation_code"], "password": PASSWORD})
            number = code["exam_number"]
            return Graduate(code["graduate_id"], number, f"学生{int(number[6:])}", self.direct.login(number, PASSWORD))

        with ThreadPoolExecutor(self.setup_threads) as pool:
            self.waiting = list(pool.map(activate, sorted(mine.values(), key=lambda c: c["exam_number"])))
        first = self.waiting[0]
        for module in ("archive", "hukou"):
            eventually(lambda m=module: api.ok("GET", f"/api/records/graduates/{first.graduate_id}/{m}", first.token)
                       ["availability"]["open"], f"records has {module} switched on and set", timeout=60)

        def known() -> bool:
            # signing invites only graduates it has heard of (records' events)
            return all(self._known_to_signing(g) for g in (self.waiting[0], self.waiting[-1]))

        eventually(known, "signing knows the roster's graduates", timeout=self.setup_timeout)

    def _known_to_signing(self, graduate: Graduate) -> bool:
        response = self.api.call("GET", "/api/signing/agreements?page_size=1", graduate.token)
        return response.status_code == 200

    # --- flows ------------------------------------------------------------------------------

    def start(self, count: int, spacing: float = 0.4) -> list[Future[Flow]]:
        """``count`` flows started ``spacing`` seconds apart (in the background)."""
        started: list[Future[Flow]] = []
        for _ in range(count):
            if not self.waiting:
                break
            flow = Flow(self.waiting.pop(0))
            self.flows.append(flow)
            started.append(self.pool.submit(self._run, flow))
            time.sleep(spacing)
        return started

    def _run(self, flow: Flow) -> Flow:
        try:
            self._steps(flow)
        except StepFailed as exc:
            flow.failure = str(exc)[:500]
        except Exception as exc:  # noqa: BLE001 - reported by the checker as the flow's failure
            flow.failure = f"{type(exc).__name__}: {exc}"[:500]
        return flow

    def _steps(self, flow: Flow) -> None:
        g = flow.graduate
        employer, department, school = (self.tokens[k] for k in ("demo-employer", "demo-zsu-cs", "demo-zsu"))
        invited = lambda: self._open_invitation(employer, g.exam_number)  # noqa: E731
        created = self._step("POST", "/api/signing/invitations", employer, 201,
                             json={"exam_number": g.exam_number, "name": g.name, "terms": TERMS},
                             already=lambda: invited() is not None)
        # None: the invitation committed but its answer was lost (say, the database went down
        # between the commit and the reply); the employer finds it in its list, as a person would.
        flow.agreement_id = created["id"] if created is not None else invited()
        path = f"/api/signing/agreements/{flow.agreement_id}"
        now = lambda: self.api.ok("GET", path, g.token)  # noqa: E731
        self._step("POST", f"{path}/accept", g.token, json={}, already=lambda: now()["status"] != "invited")
        self._step("POST", f"{path}/reviews", department, json={"decision": "approve"},
                   already=lambda: now()["status"] in ("school_review", "approved"))
        approved = self._step("POST", f"{path}/reviews", school, json={"decision": "approve"},
                              already=lambda: now()["status"] == "approved")
        flow.agreement_number = (approved or now())["number"]
        if flow.terminate:
            self._terminate(flow, path, now)

        base = f"/api/records/graduates/{g.graduate_id}"
        archive = lambda: self.api.ok("GET", f"{base}/archive", g.token)  # noqa: E731
        self._step("POST", f"{base}/archive/submit", g.token, json=ARCHIVE,
                   already=lambda: _status(archive()) not in ("none", "draft"))
        self._step("POST", f"{base}/archive/reviews", department, json={"decision": "approve"},
                   already=lambda: _status(archive()) in ("school_review", "approved"))
        done = self._step("POST", f"{base}/archive/reviews", school, json={"decision": "approve"},
                          already=lambda: _status(archive()) == "approved")
        flow.archive_approved = True
        flow.transfer_number = (done or archive())["transfer_number"]

        hukou = lambda: self.api.ok("GET", f"{base}/hukou", g.token)  # noqa: E731
        self._step("POST", f"{base}/hukou/submit", g.token, json=HUKOU,
                   already=lambda: _status(hukou()) not in ("none", "draft"))
        self._step("POST", f"{base}/hukou/reviews", school, json={"decision": "approve"},
                   already=lambda: _status(hukou()) == "approved")
        flow.hukou_approved = True

    def _terminate(self, flow: Flow, path: str, now: Callable[[], Any]) -> None:
        """The graduate asks to end the agreement, the employer agrees, the school approves."""
        employer, school = self.tokens["demo-employer"], self.tokens["demo-zsu"]
        asked = self._step("POST", f"{path}/terminations", flow.graduate.token, 201, json={"reason": "另有去向"},
                           already=lambda: bool(self.api.ok("GET", f"{path}/terminations", flow.graduate.token)))
        if asked is None:  # the lost answer's request exists: find it
            asked = self.api.ok("GET", f"{path}/terminations", flow.graduate.token)[0]
        termination = f"/api/signing/terminations/{asked['id']}"
        state = lambda: self.api.ok("GET", termination, school)["status"]  # noqa: E731
        self._step("POST", f"{termination}/agree", employer, json={"reason": None},
                   already=lambda: state() != "awaiting_counterparty")
        self._step("POST", f"{termination}/reviews", school, json={"decision": "approve"},
                   already=lambda: state() == "approved")
        if now()["status"] != "terminated":
            raise StepFailed(f"{path}: the approved termination left the agreement {now()['status']}")
        flow.terminated = True

    def _step(self, method: str, path: str, token: str, status: int = 200, *, json: Any = None,
              already: Callable[[], bool] | None = None) -> Any:
        """The call, again while a fault answers 502/503/504 or drops the connection; after such a
        retry a 409 is the step done by the attempt whose answer was lost, if ``already`` says so."""
        deadline = time.monotonic() + self.step_timeout
        retried = False
        last = ""
        while time.monotonic() < deadline:
            try:
                response = self.api.call(method, path, token, json=json)
            except requests.RequestException as exc:
                last, retried = f"{type(exc).__name__}", True
                time.sleep(0.5)
                continue
            self.answers.saw(response.status_code, f"{method} {path}")
            if response.status_code == status:
                return response.json()
            if response.status_code in self.transient:
                last, retried = f"{response.status_code} {response.text[:200]}", True
                time.sleep(0.5)
                continue
            if response.status_code == 409 and retried and already is not None and self._quietly(already):
                return None
            raise StepFailed(f"{method} {path}: {response.status_code} {response.text[:300]}")
        raise StepFailed(f"{method} {path}: still failing after {self.step_timeout:.0f}s ({last})")

    def _open_invitation(self, employer: str, exam_number: str) -> str | None:
        """The id of the employer's open invitation to the graduate, from the employer's list."""
        page = 1
        while True:
            body = self.api.ok("GET", f"/api/signing/agreements?status=invited&page={page}&page_size=100", employer)
            for item in body["items"]:
                if item["exam_number"] == exam_number:
                    return str(item["id"])
            if page >= body["pages"]:
                return None
            page += 1

    def _quietly(self, check: Callable[[], bool]) -> bool:
        deadline = time.monotonic() + self.step_timeout
        while time.monotonic() < deadline:
            try:
                return check()
            except (AssertionError, requests.RequestException):
                time.sleep(0.5)
        return False

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _status(body: dict[str, Any]) -> str:
    return str(body["status"])
