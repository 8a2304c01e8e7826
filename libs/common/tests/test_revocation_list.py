"""The revocation list on PostgreSQL and SQLite: which tokens it voids, how soon, and at what cost."""

import pytest
from sqlalchemy import event

from quxiang.common.auth.revocation import RevocationList, auth_metadata, not_before_table
from quxiang.common.db import make_engine
from quxiang.common.testing.plugin import DATABASES

NOW = 1_780_000_000.0  # wall clock, epoch seconds
TTL, WINDOW = 1.0, 1800.0


class Clocks:
    def __init__(self) -> None:
        self.wall, self.steady = NOW, 100.0

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.steady += seconds


@pytest.fixture(params=DATABASES)
def engine(request, tmp_path):
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else f"sqlite:///{tmp_path}/auth.db"
    engine = make_engine(url)
    auth_metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clocks():
    return Clocks()


@pytest.fixture
def revocations(engine, clocks):
    return RevocationList(engine, ttl=TTL, window=WINDOW, clock=lambda: clocks.wall, monotonic=lambda: clocks.steady)


@pytest.fixture
def statements(engine):
    seen: list[str] = []  # the reads (SQLite adds its BEGIN to each)
    event.listen(engine, "before_cursor_execute",
                 lambda *args: seen.append(args[2]) if args[2].startswith("SELECT") else None)
    return seen


def revoke(engine, user_id: str, not_before: float) -> None:
    with engine.begin() as conn:
        conn.execute(not_before_table.delete().where(not_before_table.c.user_id == user_id))
        conn.execute(not_before_table.insert().values(user_id=user_id, not_before=not_before))


def test_tokens_of_many_users_cost_one_read_a_ttl(engine, revocations, statements, clocks):
    revoke(engine, "u-out", NOW - 10)
    statements.clear()
    issued = NOW - 60
    assert revocations.revokes("u-out", issued)
    assert not any(revocations.revokes(f"u-{n}", issued) for n in range(50))
    assert not revocations.revokes("u-out", NOW - 5)  # logged in again after the revocation
    assert len(statements) == 1

    clocks.advance(TTL)
    assert revocations.revokes("u-out", issued)
    assert len(statements) == 2 and all("WHERE auth_not_before.not_before >" in s for s in statements)


def test_a_revocation_takes_effect_within_the_ttl(engine, revocations, clocks):
    issued = NOW - 60
    assert not revocations.revokes("u-1", issued)
    revoke(engine, "u-1", NOW)
    clocks.advance(TTL / 2)
    assert not revocations.revokes("u-1", issued)  # the read of half a ttl ago still answers
    clocks.advance(TTL / 2)
    assert revocations.revokes("u-1", issued)


def test_a_token_older_than_the_window_reads_its_users_entry(engine, revocations, statements, clocks):
    # Revoked long ago: the recent read leaves the entry out, yet it voids a token older still.
    revoke(engine, "u-old", NOW - 2 * WINDOW)
    assert revocations.revokes("u-old", NOW - 3 * WINDOW)
    assert not revocations.revokes("u-old", NOW - 60)
    assert not revocations.revokes("u-none", NOW - 3 * WINDOW)
    reads = len(statements)
    assert reads == 3  # the recent entries once, then each of the two users
    assert revocations.revokes("u-old", NOW - 3 * WINDOW)  # cached for the ttl
    assert len(statements) == reads
    revoke(engine, "u-old", NOW - 1.5 * WINDOW)
    clocks.advance(TTL)
    assert revocations.revokes("u-old", NOW - 1.6 * WINDOW)


def test_the_newest_entry_counts_however_far_the_clock_moved(engine, revocations, clocks):
    revoke(engine, "u-1", NOW - 100)
    assert not revocations.revokes("u-1", NOW - 50)
    clocks.advance(WINDOW)  # the entry has left the window; a token issued within it is newer than the entry
    assert not revocations.revokes("u-1", clocks.wall - 10)
    revoke(engine, "u-1", clocks.wall)
    clocks.advance(TTL)
    assert revocations.revokes("u-1", clocks.wall - 10)
