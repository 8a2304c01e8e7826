"""``qx-stats``: operator commands of the stats service.

    qx-stats rebuild                  recompute standings and counters from the stored aggregates, fix drift
    qx-stats rebuild --dry-run        only report the drift
    qx-stats rebuild --replay FILE    first replay an event log (JSON lines of event envelopes, as the
                                      outbox and the broker carry them) into emptied graduate tables

Exit status 0 when nothing drifted or the drift was fixed, 1 on a dry run that found drift.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence

from quxiang.common.config import load_config
from quxiang.common.events import Event, catalogue
from quxiang.stats.bootstrap import NAME, build_stats
from quxiang.stats.entrypoints.consumers import HANDLERS
from quxiang.stats.service.rebuild import rebuild


def read_log(path: str) -> Iterator[Event]:
    with open(path, encoding="utf-8") as source:
        for line in source:
            if line.strip():
                yield catalogue.decode(line)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qx-stats", description="Operator commands of the stats service")
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser("rebuild", help="recompute the read model and report drift found and fixed")
    cmd.add_argument("--replay", metavar="FILE", help="an event log to replay (JSON lines of envelopes)")
    cmd.add_argument("--dry-run", action="store_true", help="report the drift, change nothing")
    args = parser.parse_args(argv)
    service = build_stats(load_config(NAME))
    try:
        events = read_log(args.replay) if args.replay else None
        report = rebuild(service, events, fix=not args.dry_run, handlers=HANDLERS)
    finally:
        service.engine.dispose()
    for line in report.lines():
        print(line)
    return 1 if (args.dry_run and report.drift) else 0


if __name__ == "__main__":
    sys.exit(main())
