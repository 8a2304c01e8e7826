"""转递编号 serials: taken one after another they count up per school and year; taken at the same
moment by several approvals (the year's first included), every one gets its own."""

from __future__ import annotations

import threading

import pytest

from quxiang.records.adapters import registration_store as store


def _take(service, school_code: str, year: int) -> int:
    with service.session_factory() as session, session.begin():
        return store.next_transfer_serial(session, school_code, year)


def test_serials_count_up_per_school_and_year(service):
    assert [_take(service, "10558", 2026) for _ in range(3)] == [1, 2, 3]
    assert _take(service, "10558", 2027) == 1
    assert _take(service, "10561", 2026) == 1
    assert _take(service, "10558", 2026) == 4


def test_serials_taken_at_the_same_moment_are_all_different(service, config):
    if not config.database_url_for("records").startswith("postgresql"):
        pytest.skip("real concurrency is a PostgreSQL matter; SQLite serialises every writer")
    takers = 6
    barrier = threading.Barrier(takers)
    taken: list[int] = []
    errors: list[BaseException] = []

    def take() -> None:
        try:
            with service.session_factory() as session, session.begin():
                barrier.wait(10)
                taken.append(store.next_transfer_serial(session, "10558", 2026))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(takers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and sorted(taken) == list(range(1, takers + 1))
    assert _take(service, "10558", 2026) == takers + 1
