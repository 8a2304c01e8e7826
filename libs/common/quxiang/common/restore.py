"""After a service's database was restored from a dump older than the last moment it worked.

The other services kept what the restored one announced after the dump: agreements and their
versions, roster rows, numbers it handed out. Left as it is, the restored service would announce
its records' next versions with sequences the others have already seen (and drop as old), and hand
out 协议编号 and 转递编号 a second time. ``fence`` moves every version and every number counter far
past anything announced since the dump, in one transaction, before the service opens again; the
records lost with the dump are then entered again and their new events win everywhere.

Run it with the service's API and workers stopped: a request between the restore and the fence
would announce an old sequence.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Select, Table, func, select, update
from sqlalchemy.engine import Connection

# Far above what a day's changes of one record (or numbers of one school) come to, and far below
# the columns' limit (2^31) even after many restores.
DEFAULT_VERSION_FENCE = 1_000_000
DEFAULT_SERIAL_GAP = 10_000


def add_arguments(commands: Any, numbers: str) -> argparse.ArgumentParser:
    """The ``after-restore`` sub-command of a service's operator CLI; ``numbers`` names its numbers
    and what they are counted per, for the help (e.g. "协议编号 per (year, school, level)")."""
    parser = commands.add_parser("after-restore", help="after a restore from a dump: fence versions and numbers")
    parser.add_argument("--version-fence", type=int, default=DEFAULT_VERSION_FENCE, metavar="N",
                        help=f"added to every version (default {DEFAULT_VERSION_FENCE})")
    parser.add_argument("--serial-gap", type=int, default=DEFAULT_SERIAL_GAP, metavar="N",
                        help=f"{numbers}: serials skipped, more than were handed out since the dump "
                             f"(default {DEFAULT_SERIAL_GAP})")
    return parser


@dataclass(frozen=True)
class Fenced:
    table: str
    rows: int


def fence_versions(conn: Connection, versions: Iterable[Column], by: int) -> list[Fenced]:
    """Every row's version column raised by ``by``; answers the rows per table."""
    if by < 1:
        raise ValueError("the version fence must be at least 1")
    done = []
    for column in versions:
        table = column.table
        assert isinstance(table, Table)
        rows = conn.execute(update(table).values({column.name: column + by})).rowcount
        done.append(Fenced(table.name, rows))
    return done


def skip_serials(conn: Connection, last: Column, gap: int, limit: int, known: Select) -> tuple[int, int]:
    """Every number counter (``last``: the last serial handed out) moved ``gap`` ahead, and one at
    ``gap`` for each key of ``known`` (a select of the counter's other columns, in the table's order)
    that has none yet: its first number may have been handed out after the dump. Refused when that
    would pass ``limit``, the largest serial the number's format holds. Answers (moved, started)."""
    if gap < 1:
        raise ValueError("the serial gap must be at least 1")
    table = last.table
    assert isinstance(table, Table)
    keys = [c for c in table.columns if c is not last]
    highest = conn.execute(select(func.max(last))).scalar() or 0
    if highest + gap > limit:
        raise ValueError(f"{table.name}: a counter at {highest} plus {gap} passes the format's {limit}; "
                         "choose a smaller gap")
    counted = {tuple(row) for row in conn.execute(select(*keys))}
    missing = [tuple(row) for row in conn.execute(known) if tuple(row) not in counted]
    moved = conn.execute(update(table).values({last.name: last + gap})).rowcount
    if missing:
        conn.execute(table.insert(), [{**{c.name: v for c, v in zip(keys, row, strict=True)}, last.name: gap}
                                      for row in missing])
    return moved, len(missing)


def report(fenced: list[Fenced], fence: int, counters: str, moved: int, started: int, gap: int) -> list[str]:
    """What ``fence_versions`` and ``skip_serials`` did, a line each, for the operator."""
    return [*(f"{f.table}: {f.rows} version(s) raised by {fence}" for f in fenced),
            f"{counters}: {moved} moved {gap} ahead, {started} started at {gap}"]
