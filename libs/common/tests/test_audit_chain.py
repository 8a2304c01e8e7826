"""The hash-chained audit trail on PostgreSQL and SQLite: appends, tampering found by verify, concurrency."""

import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest
from sqlalchemy import MetaData, delete, event, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from quxiang.common.audit import (
    GENESIS_HASH,
    NEW_CHAIN,
    AuditConflict,
    ProblemKind,
    append,
    audit_table,
    trail,
    verify,
)
from quxiang.common.db import make_engine
from quxiang.common.testing.plugin import DATABASES

T0 = datetime(2026, 7, 1, 8, 30, tzinfo=UTC)


@pytest.fixture(params=DATABASES)
def db(request, tmp_path):
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path}/audit.db"
    engine = make_engine(url)
    table = audit_table(MetaData())
    table.metadata.create_all(engine)
    yield engine, table
    engine.dispose()


def add(conn, table, aggregate_id, n, *, actor="u-1"):
    return append(conn, table, aggregate_id=aggregate_id, actor_id=actor, actor_role="employer",
                  action=f"step-{n}", from_state=f"s{n - 1}", to_state=f"s{n}", reason=f"reason {n}",
                  request_id=f"req-{n}", details={"n": n}, at=T0 + timedelta(minutes=n))


@pytest.fixture
def populated(db):
    """agr-1 with 5 entries (appended through a Connection), agr-2 with 4 (through a Session)."""
    engine, table = db
    with engine.begin() as conn:
        for n in range(1, 6):
            add(conn, table, "agr-1", n)
    with Session(engine) as session:
        for n in range(1, 5):
            add(session, table, "agr-2", n)
        session.commit()
    return engine, table


def problems(engine, table, **kwargs):
    with engine.connect() as conn:
        return [(p.aggregate_id, p.position, p.kind) for p in verify(conn, table, **kwargs)]


def execute(engine, statement):
    with engine.begin() as conn:
        conn.execute(statement)


def row_at(table, aggregate_id, position):
    return (table.c.aggregate_id == aggregate_id) & (table.c.position == position)


def test_appends_build_one_chain_per_aggregate_and_verify_finds_nothing(populated):
    engine, table = populated
    with engine.connect() as conn:
        first, second = trail(conn, table, "agr-1"), trail(conn, table, "agr-2")
    assert [e.position for e in first] == [1, 2, 3, 4, 5]
    assert [e.position for e in second] == [1, 2, 3, 4]
    assert first[0].prev_hash == second[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(first))
    entry = first[2]
    assert (entry.action, entry.from_state, entry.to_state, entry.reason, entry.request_id, entry.details) == (
        "step-3", "s2", "s3", "reason 3", "req-3", {"n": 3})
    assert entry.at == T0 + timedelta(minutes=3) and entry.at.tzinfo is not None
    assert all(e.computed_hash() == e.hash for e in first + second)
    assert problems(engine, table) == []


def test_appending_in_a_session_that_rolls_back_leaves_nothing(db):
    engine, table = db
    with Session(engine) as session:
        add(session, table, "agr-1", 1)
        session.rollback()
    with engine.begin() as conn:
        assert add(conn, table, "agr-1", 1).position == 1


def test_a_changed_reason_is_reported_on_that_aggregate_and_position_only(populated):
    engine, table = populated
    execute(engine, update(table).where(row_at(table, "agr-1", 3)).values(reason="nothing happened"))
    assert problems(engine, table) == [("agr-1", 3, ProblemKind.CHANGED)]
    assert problems(engine, table, aggregate_id="agr-2") == []
    assert problems(engine, table, aggregate_id="agr-1") == [("agr-1", 3, ProblemKind.CHANGED)]


def test_a_changed_row_with_a_recomputed_hash_breaks_the_next_link(populated):
    engine, table = populated
    with engine.connect() as conn:
        forged = trail(conn, table, "agr-1")[2]
    forged_hash = type(forged)(**{**forged.__dict__, "reason": "forged"}).computed_hash()
    execute(engine, update(table).where(row_at(table, "agr-1", 3)).values(reason="forged", hash=forged_hash))
    assert problems(engine, table) == [("agr-1", 4, ProblemKind.BROKEN_LINK)]


def test_a_deleted_middle_row_is_reported_as_a_gap(populated):
    engine, table = populated
    execute(engine, delete(table).where(row_at(table, "agr-1", 3)))
    assert problems(engine, table) == [("agr-1", 4, ProblemKind.GAP)]


def test_a_deleted_first_row_is_reported_as_a_bad_head(populated):
    engine, table = populated
    execute(engine, delete(table).where(row_at(table, "agr-2", 1)))
    assert problems(engine, table) == [("agr-2", 2, ProblemKind.BAD_HEAD)]


def test_swapped_hashes_are_detected(populated):
    engine, table = populated
    with engine.connect() as conn:
        entries = trail(conn, table, "agr-1")
    execute(engine, update(table).where(row_at(table, "agr-1", 2)).values(hash=entries[2].hash))
    execute(engine, update(table).where(row_at(table, "agr-1", 3)).values(hash=entries[1].hash))
    found = problems(engine, table)
    assert ("agr-1", 2, ProblemKind.CHANGED) in found and ("agr-1", 3, ProblemKind.CHANGED) in found
    assert ("agr-1", 4, ProblemKind.BROKEN_LINK) in found
    assert {aggregate for aggregate, _, _ in found} == {"agr-1"}


def test_swapped_positions_are_detected(populated):
    engine, table = populated
    execute(engine, update(table).where(row_at(table, "agr-1", 2)).values(position=99))
    execute(engine, update(table).where(row_at(table, "agr-1", 3)).values(position=2))
    execute(engine, update(table).where(row_at(table, "agr-1", 99)).values(position=3))
    found = problems(engine, table)
    assert ("agr-1", 2, ProblemKind.CHANGED) in found and ("agr-1", 3, ProblemKind.CHANGED) in found
    assert {aggregate for aggregate, _, _ in found} == {"agr-1"}


def test_a_deleted_last_row_is_found_only_with_an_anchor(populated):
    engine, table = populated
    with engine.connect() as conn:
        anchors = {aggregate: (entries[-1].position, entries[-1].hash)
                   for aggregate in ("agr-1", "agr-2") for entries in [trail(conn, table, aggregate)]}
    assert problems(engine, table, anchors=anchors) == []
    execute(engine, delete(table).where(row_at(table, "agr-1", 5)))
    # What remains is a valid, shorter chain: the documented limitation.
    assert problems(engine, table) == []
    assert problems(engine, table, anchors=anchors) == [("agr-1", 5, ProblemKind.TRUNCATED)]
    assert problems(engine, table, aggregate_id="agr-2", anchors=anchors) == []
    # A whole chain deleted, and a last row replaced by a self-consistent forgery.
    execute(engine, delete(table).where(table.c.aggregate_id == "agr-1"))
    assert problems(engine, table, anchors=anchors) == [("agr-1", 5, ProblemKind.TRUNCATED)]
    with engine.begin() as conn:
        conn.execute(delete(table).where(row_at(table, "agr-2", 4)))
        add(conn, table, "agr-2", 4, actor="someone-else")
    assert problems(engine, table, aggregate_id="agr-2", anchors=anchors) == [("agr-2", 4, ProblemKind.TRUNCATED)]


def test_the_hash_is_recomputable_from_the_documented_format(db):
    engine, table = db
    at = datetime(2026, 7, 1, 16, 30, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    with engine.begin() as conn:
        add(conn, table, "agr-9", 1)
        entry = append(conn, table, aggregate_id="agr-9", actor_id="u-7", actor_role="school",
                       action="approve", from_state="submitted", to_state=None, reason="材料齐全",
                       request_id=None, details={"z": [1, 2.5], "a": {"y": True, "b": None}}, at=at)
    with engine.connect() as conn:
        [_, stored] = trail(conn, table, "agr-9")
    expected_text = (
        '{"action":"approve","actor_id":"u-7","actor_role":"school","aggregate_id":"agr-9",'
        '"at":"2026-07-01T08:30:00.123456Z","details":{"a":{"b":null,"y":true},"z":[1,2.5]},'
        '"from_state":"submitted","position":2,"prev_hash":"' + stored.prev_hash + '",'
        '"reason":"材料齐全","request_id":null,"to_state":null}'
    )
    expected = hashlib.sha256(expected_text.encode("utf-8")).hexdigest()
    assert entry.hash == stored.hash == expected
    # The same from the stored row's columns, as an auditor with only the table would do it.
    with engine.connect() as conn:
        row = conn.execute(select(table).where(row_at(table, "agr-9", 1))).one()._mapping
    at_text = (row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=UTC)).astimezone(UTC)
    document = {key: row[key] for key in row if key not in ("id", "hash")}
    document["at"] = at_text.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == row["hash"] == stored.prev_hash


def test_naive_timestamps_are_refused(db):
    engine, table = db
    with engine.begin() as conn, pytest.raises(ValueError, match="timezone-aware"):
        append(conn, table, aggregate_id="a", actor_id="u", actor_role="r", action="x",
               from_state=None, to_state=None, at=datetime(2026, 1, 1))


def test_concurrent_appends_to_one_aggregate_get_consecutive_positions(db):
    engine, table = db
    per_thread = 50
    start = threading.Barrier(2)
    errors = []

    def worker(actor):
        try:
            start.wait()
            for n in range(1, per_thread + 1):
                with engine.begin() as conn:
                    add(conn, table, "agr-hot", n, actor=actor)
        except (AuditConflict, SQLAlchemyError) as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"actor-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with engine.connect() as conn:
        entries = trail(conn, table, "agr-hot")
    assert [e.position for e in entries] == list(range(1, 2 * per_thread + 1))
    assert sorted(e.actor_id for e in entries) == ["actor-0"] * per_thread + ["actor-1"] * per_thread
    assert problems(engine, table) == []


@pytest.fixture
def pg(pg_url):
    engine = make_engine(pg_url)
    table = audit_table(MetaData())
    table.metadata.create_all(engine)
    yield engine, table
    engine.dispose()


def test_an_append_from_a_stale_snapshot_raises_a_conflict(pg):
    """PostgreSQL only: SQLite has one writer at a time and no snapshot older than its write lock."""
    engine, table = pg
    with engine.begin() as conn:
        add(conn, table, "agr-1", 1)
    with engine.connect() as stale:
        stale = stale.execution_options(isolation_level="REPEATABLE READ")
        with stale.begin():
            assert len(trail(stale, table, "agr-1")) == 1  # the snapshot is taken here
            with engine.begin() as other:
                add(other, table, "agr-1", 2, actor="other")
            with pytest.raises(AuditConflict) as raised:
                add(stale, table, "agr-1", 2, actor="stale")
            assert (raised.value.aggregate_id, raised.value.position) == ("agr-1", 2)
    with engine.begin() as conn:  # the retry, in a new transaction, goes after the other append
        assert add(conn, table, "agr-1", 3, actor="stale").position == 3
    assert problems(engine, table) == []


def test_an_append_after_the_callers_anchor_writes_one_statement_and_continues_the_chain(db):
    """A caller that holds the aggregate's row (its anchor) passes the chain's end: no lock, no read,
    the same chain as an append that reads it; ``NEW_CHAIN`` starts one."""
    engine, table = db
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with engine.begin() as conn:
        first = append(conn, table, aggregate_id="agr-9", actor_id="u-1", actor_role="employer", action="invite",
                       from_state=None, to_state="invited", at=T0, after=NEW_CHAIN)
        event.listen(engine, "before_cursor_execute", count)
        try:
            second = append(conn, table, aggregate_id="agr-9", actor_id="u-2", actor_role="graduate",
                            action="accept", from_state="invited", to_state="accepted", at=T0 + timedelta(minutes=1),
                            after=(first.position, first.hash))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        read = add(conn, table, "agr-9", 3)  # without an anchor: the end read from the table
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("INSERT")
    assert (first.position, first.prev_hash) == (1, GENESIS_HASH)
    assert (second.position, second.prev_hash, read.position, read.prev_hash) == (2, first.hash, 3, second.hash)
    assert problems(engine, table, anchors={"agr-9": (3, read.hash)}) == []


def test_an_anchor_that_is_not_the_chains_end_is_a_conflict_not_a_fork(populated):
    engine, table = populated
    with engine.connect() as conn:
        chain = trail(conn, table, "agr-1")
    stale = chain[-2]  # an anchor one append behind
    with pytest.raises(AuditConflict), engine.begin() as conn:
        append(conn, table, aggregate_id="agr-1", actor_id="u-9", actor_role="school", action="late",
               from_state="s4", to_state="s9", at=T0 + timedelta(hours=1), after=(stale.position, stale.hash))
    with engine.connect() as conn:
        assert [e.hash for e in trail(conn, table, "agr-1")] == [e.hash for e in chain]
    assert problems(engine, table) == []
