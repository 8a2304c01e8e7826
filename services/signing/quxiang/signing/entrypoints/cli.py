"""``qx-signing``: operator commands of the signing service.

    qx-signing audit-verify [--agreement ID]   check every agreement's audit chain; exit 1 on a problem
    qx-signing expire                           expire the unanswered invitations past their deadline now

The audit trail of an agreement is hash-chained (``quxiang.common.audit``): a changed, deleted or
inserted row breaks the chain. The chain's end is also kept on the agreement row (``audit_position``,
``audit_hash``), so deleting the last entries is caught too. Run ``audit-verify`` regularly (e.g.
daily) and after any restore; it prints one line per problem and nothing else when all is well.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy import select

from quxiang.common import audit
from quxiang.common.config import load_config
from quxiang.common.db import reading
from quxiang.signing.adapters.tables import agreement_audit, agreements
from quxiang.signing.bootstrap import NAME, build_signing
from quxiang.signing.service import online
from quxiang.signing.service.context import Signing


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qx-signing", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("audit-verify", help="check the agreements' audit chains")
    verify.add_argument("--agreement", help="only this agreement")
    commands.add_parser("expire", help="expire overdue invitations now")
    args = parser.parse_args(argv)
    service = build_signing(load_config(NAME))
    try:
        if args.command == "expire":
            print(f"expired {online.expire_due(service)} invitation(s)")
            return 0
        return audit_verify(service, args.agreement)
    finally:
        service.engine.dispose()


def audit_verify(service: Signing, agreement_id: str | None) -> int:
    with reading(service.engine, streaming=True) as conn:
        query = select(agreements.c.id, agreements.c.audit_position, agreements.c.audit_hash)
        if agreement_id:
            query = query.where(agreements.c.id == agreement_id)
        anchors = {row.id: (row.audit_position, row.audit_hash) for row in conn.execute(query)}
        problems = audit.verify(conn, agreement_audit, agreement_id, anchors=anchors)
    for problem in problems:
        print(f"agreement {problem.aggregate_id} position {problem.position}: {problem.kind.value}: {problem.detail}")
    print(f"{len(anchors)} agreement(s) checked, {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
