"""The read model's rules: what an aggregate's status means for a module's figures, a graduate's
state per module from all its aggregates, and the counter deltas between two states of a graduate.

Plain values only; the adapters store them and the service applies them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    """A graduate's standing in one module. The three add up to the total."""

    NONE = "none"              # 未登记
    REVIEW = "review"          # 审核中
    REGISTERED = "registered"  # 已登记


STATE_LABELS: Mapping[State, str] = {State.NONE: "未登记", State.REVIEW: "审核中", State.REGISTERED: "已登记"}
_RANK = {State.NONE: 0, State.REVIEW: 1, State.REGISTERED: 2}


class Kind(StrEnum):
    """The aggregates whose status decides a module's figures."""

    AGREEMENT = "agreement"      # signing.agreement.*: online, offline and supplementary agreements
    DESTINATION = "destination"  # signing.destination.*: 去向登记
    ARCHIVE = "archive"          # records.archive.*
    HUKOU = "hukou"              # records.hukou.*


class StatsModule(StrEnum):
    EMPLOYMENT = "employment"  # 毕业去向登记与网签
    ARCHIVE = "archive"        # 档案信息登记
    HUKOU = "hukou"            # 户口信息登记


MODULES = (StatsModule.EMPLOYMENT, StatsModule.ARCHIVE, StatsModule.HUKOU)
MODULE_LABELS: Mapping[StatsModule, str] = {StatsModule.EMPLOYMENT: "毕业去向登记与网签",
                                            StatsModule.ARCHIVE: "档案信息登记", StatsModule.HUKOU: "户口信息登记"}
MODULE_OF: Mapping[Kind, StatsModule] = {Kind.AGREEMENT: StatsModule.EMPLOYMENT,
                                         Kind.DESTINATION: StatsModule.EMPLOYMENT,
                                         Kind.ARCHIVE: StatsModule.ARCHIVE, Kind.HUKOU: StatsModule.HUKOU}

# Status (as the producers publish it) -> state. Anything not listed counts as 未登记: invitations not
# answered, declined, expired, withdrawn, rejected, awaiting the signed scan, terminated, voided, drafts.
_STATES: Mapping[Kind, Mapping[str, State]] = {
    Kind.AGREEMENT: {
        "approved": State.REGISTERED, "void_review": State.REGISTERED,  # in force until the void is approved
        "department_review": State.REVIEW, "school_review": State.REVIEW,
        "application_department_review": State.REVIEW, "application_school_review": State.REVIEW,
    },
    Kind.DESTINATION: {
        "approved": State.REGISTERED, "void_review": State.REGISTERED,
        "department_review": State.REVIEW, "school_review": State.REVIEW,
    },
    Kind.ARCHIVE: {"approved": State.REGISTERED, "department_review": State.REVIEW, "school_review": State.REVIEW},
    Kind.HUKOU: {"approved": State.REGISTERED, "department_review": State.REVIEW, "school_review": State.REVIEW},
}


def state_of(kind: Kind, status: str, approval_stands: bool = False) -> State:
    """What an aggregate in ``status`` means for its graduate's module. An archive/hukou registration
    whose earlier approval still stands (a change in review) stays registered: records and the EMS
    keep the approval until a review replaces it."""
    state = _STATES[kind].get(status, State.NONE)
    if approval_stands and kind in (Kind.ARCHIVE, Kind.HUKOU):
        return State.REGISTERED
    return state


@dataclass(frozen=True)
class Aggregate:
    """The latest known state of one agreement, destination registration or archive/hukou registration."""

    id: str
    kind: Kind
    status: str
    destination_code: str | None = None
    approval_stands: bool = False  # archive/hukou: an earlier approval stands (records' approval_stands)

    @property
    def state(self) -> State:
        return state_of(self.kind, self.status, self.approval_stands)


@dataclass(frozen=True)
class Standing:
    """A graduate's state in each module, and the destination category of its 已登记 employment."""

    employment: State = State.NONE
    archive: State = State.NONE
    hukou: State = State.NONE
    destination_code: str | None = None

    def of(self, module: StatsModule) -> State:
        return getattr(self, module.value)


def standing(aggregates: Iterable[Aggregate]) -> Standing:
    """A graduate's standing from all its aggregates: per module the furthest state any of them reached.
    Independent of the order the aggregates are given in; if two employment aggregates are both
    registered (never at once in signing), the agreement wins, then the greater id."""
    best: dict[StatsModule, tuple[int, int, str, Aggregate]] = {}
    for a in aggregates:
        module = MODULE_OF[a.kind]
        key = (_RANK[a.state], 1 if a.kind is Kind.AGREEMENT else 0, a.id, a)
        if module not in best or key[:3] > best[module][:3]:
            best[module] = key
    states = {m: State.NONE for m in MODULES}
    code = None
    for module, (_, _, _, a) in best.items():
        states[module] = a.state
        if module is StatsModule.EMPLOYMENT and a.state is State.REGISTERED:
            code = a.destination_code
    return Standing(states[StatsModule.EMPLOYMENT], states[StatsModule.ARCHIVE], states[StatsModule.HUKOU], code)


@dataclass(frozen=True)
class CounterKey:
    """One row of the counters: school, department, 学历, graduation year ("" where unknown)."""

    school_code: str
    department_id: str
    education_level: str
    graduation_year: int


@dataclass(frozen=True)
class Graduate:
    """A graduate as the read model sees it: in the roster (``key`` set) or not yet, and its standing."""

    key: CounterKey | None
    standing: Standing


COUNTER_COLUMNS = ("total", "employment_registered", "employment_review", "archive_registered", "archive_review",
                   "hukou_registered", "hukou_review")


def contribution(graduate: Graduate) -> tuple[dict[str, int], str | None]:
    """What one graduate adds to its counter row, and the destination category it adds to (if any).
    A graduate not in the roster adds nothing: 总人数 is the roster."""
    if graduate.key is None:
        return {}, None
    s = graduate.standing
    values = {"total": 1}
    for module in MODULES:
        state = s.of(module)
        if state is not State.NONE:
            values[f"{module.value}_{state.value}"] = 1
    code = s.destination_code if s.employment is State.REGISTERED else None
    return values, code


@dataclass(frozen=True)
class Deltas:
    counters: dict[CounterKey, dict[str, int]]
    destinations: dict[tuple[CounterKey, str], int]

    def __bool__(self) -> bool:
        return bool(self.counters or self.destinations)


def deltas(before: Graduate, after: Graduate) -> Deltas:
    """The counter changes that move one graduate from ``before`` to ``after``: none if nothing
    that the counters show changed."""
    counters: dict[CounterKey, dict[str, int]] = {}
    destinations: dict[tuple[CounterKey, str], int] = {}
    for graduate, sign in ((before, -1), (after, 1)):
        values, code = contribution(graduate)
        if graduate.key is None:
            continue
        row = counters.setdefault(graduate.key, {})
        for column, n in values.items():
            row[column] = row.get(column, 0) + sign * n
        if code is not None:
            destinations[(graduate.key, code)] = destinations.get((graduate.key, code), 0) + sign
    counters = {k: {c: n for c, n in v.items() if n} for k, v in counters.items()}
    return Deltas({k: v for k, v in counters.items() if v}, {k: n for k, n in destinations.items() if n})
