"""The loss checker: every source of truth against what the platform confirmed to the workload.

Expected: for each flow, the steps the platform answered 2xx to — the approved agreement (with its
协议编号), the approved archive transfer (with its 转递编号), the approved hukou transfer. The sources,
read straight from their databases: signing's agreements, records' registrations, the stats read
model (``stat_graduates`` and the school's counters), ems-sim's records (and its write counters), and
the sync ledger. Per source and record kind:

- lost: expected but missing (or not yet applied: the checker waits for the platform to settle);
- duplicated: a record more than once (a second agreement for one invitation, a counter above the
  rows it counts, ems-sim writing one record twice);
- unexpected: present but never confirmed to anyone (a write answered with an error that happened
  anyway: half-written), or with other values than confirmed, or a dead letter that is not the
  suite's own poison message."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
import requests
from fault_workload import SCHOOL, Flow

MINE = "264402%"  # the workload's 考生号 (the demo data has graduates of its own)


@dataclass
class Tally:
    lost: int = 0
    duplicated: int = 0
    unexpected: int = 0
    unsettled: int = 0  # backlog still moving: outbox, ledger, queues (waited for, not a loss)
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.lost == self.duplicated == self.unexpected == self.unsettled == 0

    def add(self, kind: str, what: str, items: Iterable[Any]) -> None:
        items = list(items)
        if items:
            setattr(self, kind, getattr(self, kind) + len(items))
            self.notes.append(f"{kind} {len(items)} {what}: {sorted(map(str, items))[:5]}")


def query_rows(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Every row the query answers, on a connection of its own (the checker and the benches read many databases)."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=5) as conn:
        return list(conn.execute(sql, params).fetchall())


class Checker:
    def __init__(self, database_url: Callable[[str], str], ems_url: str,
                 queue_depths: Callable[[], dict[str, tuple[int, int]]]) -> None:
        self.db = database_url
        self.ems_url = ems_url
        self.queue_depths = queue_depths
        self.poison: dict[str, int] = {}  # dead-letter queue -> messages the suite put there on purpose

    def check(self, flows: list[Flow]) -> Tally:
        tally = Tally()
        exam = {gid: number for gid, number in
                query_rows(self.db("records"), "SELECT id, exam_number FROM graduates WHERE exam_number LIKE %s", MINE)}
        destination = {f.graduate.exam_number: f.agreement_number for f in flows
                       if f.agreement_number and not f.terminate}
        # A flow that asked to end its agreement: terminated if the platform said so; otherwise (a
        # failure on the way) either state may be true, so it is not counted against any source.
        ended = {f.graduate.exam_number: f.agreement_number for f in flows if f.terminated}
        archive = {f.graduate.exam_number: f.transfer_number for f in flows if f.archive_approved}
        hukou = {f.graduate.exam_number for f in flows if f.hukou_approved}

        # --- signing: one agreement per invitation, approved exactly where the workload saw it
        agreements = [(exam.get(gid), status, number) for gid, status, number in query_rows(
            self.db("signing"), "SELECT graduate_id, status, number FROM agreements WHERE school_code = %s", SCHOOL)]
        agreements = [a for a in agreements if a[0] is not None]
        per_graduate = Counter(a[0] for a in agreements)
        tally.add("duplicated", "signing agreements per invitation", [e for e, n in per_graduate.items() if n > 1])
        invited = {f.graduate.exam_number for f in flows if f.agreement_id}
        tally.add("unexpected", "signing agreements never confirmed", set(per_graduate) - invited)
        undecided = {f.graduate.exam_number for f in flows if f.terminate and not f.terminated}
        signed = {e: number for e, status, number in agreements if status == "approved" and e not in undecided}
        self._compare(tally, "signing approved agreements", destination, signed)
        self._compare(tally, "signing terminated agreements", ended,
                      {e: number for e, status, number in agreements if status == "terminated"})

        # --- records: archive and hukou registrations
        registrations = query_rows(self.db("records"), "SELECT graduate_id, module, transfer_number FROM registrations "
                                                  "WHERE status = 'approved' AND school_code = %s", SCHOOL)
        records_archive = {exam[g]: t for g, m, t in registrations if m == "archive" and g in exam}
        records_hukou = {exam[g]: None for g, m, _ in registrations if m == "hukou" and g in exam}
        self._compare(tally, "records approved archive", archive, records_archive)
        self._compare(tally, "records approved hukou", dict.fromkeys(hukou), records_hukou)

        # --- stats: the read model's graduates and the school's counters
        stat = {exam[g]: (e, a, h) for g, e, a, h in query_rows(
            self.db("stats"), "SELECT id, employment, archive, hukou FROM stat_graduates") if g in exam}
        for position, (label, expected) in enumerate((("employment", destination), ("archive", archive),
                                                      ("hukou", dict.fromkeys(hukou)))):
            registered = {e: None for e, states in stat.items() if states[position] == "registered"
                          and not (label == "employment" and e in undecided)}
            self._compare(tally, f"stats registered {label}", dict.fromkeys(expected), registered)
        counters = query_rows(self.db("stats"), "SELECT coalesce(sum(employment_registered), 0), "
                         "coalesce(sum(archive_registered), 0), coalesce(sum(hukou_registered), 0) "
                         "FROM stat_school_counters WHERE school_code = %s", SCHOOL)[0]
        truth = query_rows(self.db("stats"), "SELECT count(*) FILTER (WHERE employment = 'registered'), "
                      "count(*) FILTER (WHERE archive = 'registered'), count(*) FILTER (WHERE hukou = 'registered') "
                      "FROM stat_graduates WHERE school_code = %s", SCHOOL)[0]
        for label, counted, rows in zip(("employment", "archive", "hukou"), counters, truth, strict=True):
            if counted > rows:
                tally.add("duplicated", f"stats {label} counter above its rows", [f"{counted}>{rows}"])
            elif counted < rows:
                tally.add("lost", f"stats {label} counter below its rows", [f"{counted}<{rows}"])

        # --- ems-sim: the mirror, and how often it wrote
        ems = self.db("ems-sim")
        ems_destinations = query_rows(ems, "SELECT exam_number, agreement_number, status FROM ems_destinations "
                                      "WHERE exam_number LIKE %s", MINE)
        mirrored = {e: n for e, n, s in ems_destinations if s == "in_force" and e not in undecided}
        self._compare(tally, "ems-sim destinations", destination, mirrored)
        self._compare(tally, "ems-sim terminated destinations", ended,
                      {e: n for e, n, s in ems_destinations if s == "terminated"})
        self._compare(tally, "ems-sim archives", archive, dict(query_rows(
            ems, "SELECT exam_number, transfer_number FROM ems_archives WHERE exam_number LIKE %s", MINE)))
        self._compare(tally, "ems-sim hukous", dict.fromkeys(hukou), dict.fromkeys(e for (e,) in query_rows(
            ems, "SELECT exam_number FROM ems_hukous WHERE exam_number LIKE %s", MINE)))
        # every record says the graduate's 毕业年份 and 学历层次 as the roster has them
        cohorts = {e: (y, level) for e, y, level in query_rows(
            self.db("records"), "SELECT exam_number, graduation_year, education_level FROM graduates "
                                "WHERE exam_number LIKE %s", MINE)}
        for table in ("ems_destinations", "ems_archives", "ems_hukous"):
            held = query_rows(ems, f"SELECT exam_number, graduation_year, education_level FROM {table} "
                                   "WHERE exam_number LIKE %s", MINE)
            tally.add("unexpected", f"{table} with another 毕业年份 or 学历层次 than the roster's",
                      [e for e, y, level in held if cohorts.get(e) != (y, level)])
        writes = requests.get(f"{self.ems_url}/admin/stats", timeout=10).json()["writes"]
        for kind, table in (("destination", "ems_destinations"), ("archive", "ems_archives"), ("hukou", "ems_hukous")):
            rows = query_rows(ems, f"SELECT count(*) FROM {table}")[0][0]
            done = writes.get(kind, {})
            extra = done.get("created", 0) - rows + done.get("updated", 0) + done.get("unchanged", 0)
            if extra > 0:
                tally.add("duplicated", f"ems-sim {kind} writes beyond one per record", [f"{extra} extra writes"])

        # --- still moving: the ledger, every outbox, the queues (not a verdict: waited for)
        ledger = query_rows(self.db("sync-gateway"), "SELECT status, count(*) FROM sync_records GROUP BY status")
        for status, count in ledger:
            if status == "pending":
                tally.unsettled += count
            elif status == "failed":
                tally.add("lost", "sync ledger records parked as failed", [f"{count} failed"])
        for service in ("accounts", "records", "signing", "stats", "sync-gateway"):
            tally.unsettled += query_rows(self.db(service), "SELECT count(*) FROM outbox WHERE sent_at IS NULL")[0][0]
        for queue, (ready, unacked) in self.queue_depths().items():
            if queue.endswith(".dlq"):
                extra = ready + unacked - self.poison.get(queue, 0)
                if extra > 0:
                    tally.add("unexpected", f"dead letters in {queue}", [f"{extra} not the suite's poison"])
                elif extra < 0:
                    tally.add("lost", f"poison message missing from {queue}", [queue])
            elif ".retry." not in queue and queue != "qx.unrouted" and not queue.endswith(".unrouted"):
                tally.unsettled += ready + unacked
        return tally

    @staticmethod
    def _compare(tally: Tally, source: str, expected: dict[str, Any], found: dict[str, Any]) -> None:
        tally.add("lost", f"missing from {source}", set(expected) - set(found))
        tally.add("unexpected", f"in {source}, never confirmed", set(found) - set(expected))
        tally.add("unexpected", f"different in {source}",
                  [e for e in set(expected) & set(found) if expected[e] is not None and found[e] != expected[e]])
