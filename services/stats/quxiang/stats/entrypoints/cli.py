"""``qx-stats``: operator commands of the stats service.

    qx-stats rebuild                  recompute standings and counters from the stored aggregates, fix drift
    qx-stats rebuild --dry-run        only report the drift
    qx-stats rebuild --replay FILE    first replay an event log (JSON lines of event envelopes, as the
                                      outbox and the broker carry them) into emptied graduate tables

    qx-stats rebuild --from-services --records-url URL --signing-url URL [--token TOKEN]
                                      first load the owning services' snapshots (an admin's access
                                      token, or QX_STATS_SOURCE_TOKEN) into emptied graduate tables

Exit status 0 when nothing drifted or the drift was fixed, 1 on a dry run that found drift.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence

import requests

from quxiang.common.config import load_config
from quxiang.common.events import Event, catalogue
from quxiang.common.operator_cli import reports_unreachable_services
from quxiang.stats.bootstrap import NAME, build_stats
from quxiang.stats.entrypoints.consumers import HANDLERS
from quxiang.stats.service import snapshots
from quxiang.stats.service.rebuild import rebuild


def read_log(path: str) -> Iterator[Event]:
    with open(path, encoding="utf-8") as source:
        for line in source:
            if line.strip():
                yield catalogue.decode(line)


@reports_unreachable_services
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qx-stats", description="Operator commands of the stats service")
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser("rebuild", help="recompute the read model and report drift found and fixed")
    cmd.add_argument("--replay", metavar="FILE", help="an event log to replay (JSON lines of envelopes)")
    cmd.add_argument("--dry-run", action="store_true", help="report the drift, change nothing")
    cmd.add_argument("--from-services", action="store_true", help="load records' and signing's snapshots")
    cmd.add_argument("--records-url", help="records' base URL, as http://gateway/api/records")
    cmd.add_argument("--signing-url", help="signing's base URL, as http://gateway/api/signing")
    cmd.add_argument("--token", default=os.environ.get("QX_STATS_SOURCE_TOKEN"), help="an admin's access token")
    args = parser.parse_args(argv)
    if args.from_services and (args.replay or not (args.records_url and args.signing_url and args.token)):
        parser.error("--from-services needs --records-url, --signing-url and --token (or QX_STATS_SOURCE_TOKEN), "
                     "and no --replay")
    if args.from_services:
        try:
            snapshots.require_admin_token(args.token)
        except snapshots.NotAnAdminToken as exc:
            parser.error(str(exc))
    service = build_stats(load_config(NAME))
    try:
        events = read_log(args.replay) if args.replay else None
        if args.from_services:
            report = rebuild(service, fix=not args.dry_run,
                             load=snapshots.read_when_loading(args.records_url, args.signing_url, args.token),
                             source="the records and signing snapshots")
        else:
            report = rebuild(service, events, fix=not args.dry_run, handlers=HANDLERS)
    except (snapshots.SnapshotUnreadable, requests.RequestException) as exc:
        print(f"cannot read the snapshots, nothing changed: {exc}", file=sys.stderr)
        return 1
    finally:
        service.engine.dispose()
    for line in report.lines():
        print(line)
    # schools missing from the directory: the rebuild cannot repair that, so it is not "fixed"
    return 1 if (args.dry_run and report.drift) or report.unknown_schools else 0


if __name__ == "__main__":
    sys.exit(main())
