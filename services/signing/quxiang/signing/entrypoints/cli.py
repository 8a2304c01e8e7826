"""``qx-signing``: operator commands of the signing service.

    qx-signing audit-verify [--id ID]   check every audit chain (agreements, terminations, destination
                                        registrations); exit 1 on a problem or an unknown ID
    qx-signing expire                   expire the unanswered invitations past their deadline now
    qx-signing republish-settings       announce every school's 网签设置 again (a service's copy lost some;
                                        quxiang.common.bus.republish)
    qx-signing after-restore [--version-fence N] [--serial-gap N]
                                        once, right after restoring the database from a dump and
                                        before the service starts again: every version and 协议编号
                                        counter moved past what was announced since the dump
                                        (quxiang.common.restore; docs/operations.md)

The audit trail of an agreement, a termination and a destination registration is hash-chained
(``quxiang.common.audit``): a changed, deleted or inserted row breaks the chain. The chain's end is
also kept on the record's own row (``audit_position``, ``audit_hash``), so deleting the last
entries, or the whole trail, is caught too. Run ``audit-verify`` regularly (e.g.
daily) and after any restore; it prints one line per problem and nothing else when all is well.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy import func, select

from quxiang.common import audit, restore
from quxiang.common.bus.republish import record_again
from quxiang.common.config import load_config
from quxiang.common.contracts import signing as contracts
from quxiang.common.db import reading
from quxiang.common.operator_cli import reports_unreachable_services
from quxiang.signing.adapters.destination_tables import destination_registrations
from quxiang.signing.adapters.tables import (
    agreement_audit,
    agreement_counters,
    agreements,
    graduates,
    school_settings,
    terminations,
)
from quxiang.signing.bootstrap import NAME, build_signing
from quxiang.signing.service import online
from quxiang.signing.service.context import Signing


@reports_unreachable_services
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qx-signing", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("audit-verify", help="check every audit chain")
    verify.add_argument("--id", "--agreement", dest="record", help="only this agreement, termination or registration")
    commands.add_parser("expire", help="expire overdue invitations now")
    commands.add_parser("republish-settings", help="announce every school's 网签设置 again")
    restore.add_arguments(commands, "协议编号 per (year, school, level)")
    args = parser.parse_args(argv)
    service = build_signing(load_config(NAME))
    try:
        if args.command == "expire":
            print(f"expired {online.expire_due(service)} invitation(s)")
            return 0
        if args.command == "republish-settings":
            print(f"announced again: {republish_settings(service)} school(s)' 网签设置")
            return 0
        if args.command == "after-restore":
            return after_restore(service, args.version_fence, args.serial_gap)
        return audit_verify(service, args.record)
    finally:
        service.engine.dispose()


def republish_settings(service: Signing) -> int:
    with reading(service.engine) as conn:
        rows = conn.execute(select(school_settings.c.school_code, school_settings.c.version)
                            .order_by(school_settings.c.school_code)).all()
    return record_again(service.unit_of_work, (
        (contracts.SCHOOL_SETTINGS_UPDATED, r.school_code, r.version,
         {"school_code": r.school_code, "module": online.EMPLOYMENT, "completed": True}) for r in rows))


# Every versioned aggregate signing announces (the copies of others' rows keep their sequences).
VERSIONED = (school_settings.c.version, agreements.c.version, terminations.c.version,
             destination_registrations.c.version)
MAX_SERIAL = 999_999  # 协议编号's six digits


def after_restore(service: Signing, version_fence: int, serial_gap: int) -> int:
    """Fence versions and 协议编号 counters in one transaction. A (year, school, level) with
    graduates but no counter yet (its first agreement may have come after the dump) starts past the
    gap too."""
    known = select(graduates.c.graduation_year, graduates.c.school_code,
                   func.coalesce(graduates.c.education_level, "00")).distinct()
    try:
        with service.engine.begin() as conn:
            fenced = restore.fence_versions(conn, VERSIONED, version_fence)
            moved, started = restore.skip_serials(conn, agreement_counters.c.last, serial_gap, MAX_SERIAL, known)
    except ValueError as exc:
        print(f"after-restore: {exc}", file=sys.stderr)
        return 2
    print("\n".join(restore.report(fenced, version_fence, "agreement_counters", moved, started, serial_gap)))
    return 0


# The records whose trails are in signing_audit, each keeping its chain's end on its own row.
ANCHORED = {"agreement": agreements, "termination": terminations, "registration": destination_registrations}


def audit_verify(service: Signing, record_id: str | None) -> int:
    kinds: dict[str, str] = {}
    anchors: dict[str, tuple[int, str]] = {}
    with reading(service.engine, streaming=True) as conn:
        for kind, table in ANCHORED.items():
            query = select(table.c.id, table.c.audit_position, table.c.audit_hash)
            if record_id:
                query = query.where(table.c.id == record_id)
            for row in conn.execute(query):
                kinds[row.id] = kind
                anchors[row.id] = (row.audit_position, row.audit_hash)
        if record_id and not anchors:
            print(f"no agreement, termination or destination registration has the id {record_id}", file=sys.stderr)
            return 1
        problems = audit.verify(conn, agreement_audit, record_id, anchors=anchors)
    for problem in problems:
        print(f"{kinds.get(problem.aggregate_id, 'record')} {problem.aggregate_id} position {problem.position}: "
              f"{problem.kind.value}: {problem.detail}")
    counts = ", ".join(f"{sum(k == kind for k in kinds.values())} {kind}(s)" for kind in ANCHORED)
    print(f"{counts} checked, {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
