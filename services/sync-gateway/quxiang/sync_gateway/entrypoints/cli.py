"""``qx-sync``: operator commands of the sync-gateway service.

    qx-sync retry-failed [--id ID ...] [--school CODE]   failed records back to pending (fresh budget)
    qx-sync reconcile [--dry-run]                        compare synced records with the EMS, re-sync drift
    qx-sync run [--seconds N]                            run the delivery worker (default: until SIGTERM)
    qx-sync status                                       counts per ledger status
    qx-sync feed-credentials create|rotate|revoke|show SCHOOL
                                                         a school's feed broker user (password shown once)
    qx-sync feed-asyncapi                                the feed's AsyncAPI document (docs/feed-asyncapi.json)
    qx-sync restore-check [--signing-url URL] [--records-url URL] [--token TOKEN]
                                                         after signing or records was restored from a dump:
                                                         the EMS's records whose source is lost or behind
    qx-sync fill-cohorts --records-url URL [--token TOKEN]
                                                         after the upgrade to ledger 0009: 毕业年份 and
                                                         学历层次 from records' roster, records sent again

``reconcile`` exits 1 when it could not read the EMS, or on a dry run that found drift;
``restore-check`` exits 1 when a source is behind (one line each: the worklist), 2 when it cannot read;
``fill-cohorts`` exits 2 when it cannot read records' roster (what it filled before stays filled).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence

import requests

from quxiang.common.config import load_config
from quxiang.common.db import reading
from quxiang.common.operator_cli import reports_unreachable_services
from quxiang.common.snapshot_reader import NotAnAdminToken, SnapshotUnreadable, require_admin_token
from quxiang.common.web.errors import ProblemError
from quxiang.sync_gateway.adapters import ledger
from quxiang.sync_gateway.adapters.broker_admin import BrokerAdminError
from quxiang.sync_gateway.bootstrap import NAME, build_gateway
from quxiang.sync_gateway.domain.asyncapi import document
from quxiang.sync_gateway.service import cohorts, feed, restore_check
from quxiang.sync_gateway.service.context import Gateway
from quxiang.sync_gateway.service.reconcile import reconcile
from quxiang.sync_gateway.service.worker import SyncWorker


@reports_unreachable_services
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qx-sync", description="Operator commands of the sync-gateway service")
    commands = parser.add_subparsers(dest="command", required=True)
    retry = commands.add_parser("retry-failed", help="failed records back to pending")
    retry.add_argument("--id", type=int, action="append", dest="ids", help="a ledger record id (repeatable)")
    retry.add_argument("--school", action="append", dest="schools", help="a school code (repeatable)")
    check = commands.add_parser("reconcile", help="compare the synced records with the EMS and re-sync drift")
    check.add_argument("--dry-run", action="store_true", help="report the drift, change nothing")
    run = commands.add_parser("run", help="run the delivery worker")
    run.add_argument("--seconds", type=float, default=None, help="stop after this long")
    commands.add_parser("status", help="counts per ledger status")
    credentials = commands.add_parser("feed-credentials", help="a school's feed broker user")
    credentials.add_argument("action", choices=["create", "rotate", "revoke", "show"])
    credentials.add_argument("school", help="the school code")
    commands.add_parser("feed-asyncapi", help="print the feed's AsyncAPI document")
    restored = commands.add_parser("restore-check", help="after a restore: the EMS's records whose source is behind")
    restored.add_argument("--signing-url", help="signing's base URL, as http://gateway/api/signing")
    restored.add_argument("--records-url", help="records' base URL, as http://gateway/api/records")
    restored.add_argument("--token", default=os.environ.get("QX_SYNC_SOURCE_TOKEN"), help="an admin's access token")
    cohorts = commands.add_parser("fill-cohorts", help="after the upgrade to ledger 0009: 毕业年份 and 学历层次 "
                                                       "from records' roster")
    cohorts.add_argument("--records-url", required=True, help="records' base URL, as http://gateway/api/records")
    cohorts.add_argument("--token", default=os.environ.get("QX_SYNC_SOURCE_TOKEN"), help="an admin's access token")
    args = parser.parse_args(argv)
    if args.command == "restore-check" and not (args.signing_url or args.records_url):
        parser.error("restore-check needs --signing-url and/or --records-url")
    if args.command in ("restore-check", "fill-cohorts"):
        if not args.token:
            parser.error(f"{args.command} needs --token (or QX_SYNC_SOURCE_TOKEN)")
        try:
            require_admin_token(args.token, f"{args.command} reads every province's records")
        except NotAnAdminToken as exc:
            parser.error(str(exc))
    if args.command == "feed-asyncapi":
        print(asyncapi_text(), end="")
        return 0
    gateway = build_gateway(load_config(NAME))
    try:
        if args.command == "retry-failed":
            print(f"retried={ledger.retry_failed(gateway.engine, ids=args.ids, schools=args.schools)}")
            return 0
        if args.command == "status":
            with reading(gateway.engine) as conn:
                print(" ".join(f"{k}={v}" for k, v in sorted(ledger.counts(conn).items())) or "empty")
            return 0
        if args.command == "reconcile":
            report = reconcile(gateway, fix=not args.dry_run)
            for line in report.lines():
                print(line)
            return 1 if report.errors or (args.dry_run and report.drift) else 0
        if args.command == "feed-credentials":
            return _credentials(gateway, args.action, args.school)
        if args.command == "restore-check":
            return _restore_check(gateway, args.signing_url, args.records_url, args.token)
        if args.command == "fill-cohorts":
            return _fill_cohorts(gateway, args.records_url, args.token)
        return _run(gateway, args.seconds)
    finally:
        gateway.engine.dispose()


def _restore_check(gateway: Gateway, signing_url: str | None, records_url: str | None, token: str) -> int:
    try:
        behind = restore_check.check(gateway, signing_url, records_url, token)
    except (SnapshotUnreadable, requests.RequestException) as exc:
        print(f"cannot read the snapshots: {exc}", file=sys.stderr)
        return 2
    for item in behind:
        print(item.line())
    print(f"behind={len(behind)}")
    return 1 if behind else 0


def _fill_cohorts(gateway: Gateway, records_url: str, token: str) -> int:
    try:
        report = cohorts.fill_cohorts(gateway, records_url, token)
    except (SnapshotUnreadable, requests.RequestException) as exc:
        print(f"cannot read records' roster: {exc}", file=sys.stderr)
        return 2
    print(report.line())
    return 0


def asyncapi_text() -> str:
    """The document as docs/feed-asyncapi.json holds it."""
    return json.dumps(document(), ensure_ascii=False, indent=2) + "\n"


def _credentials(gateway: object, action: str, school: str) -> int:
    try:
        if action == "show":
            out = feed.show_credential(gateway, school)  # type: ignore[arg-type]
        elif action == "revoke":
            out = feed.revoke_credential(gateway, school, "qx-sync")  # type: ignore[arg-type]
        else:
            out = feed.issue_credential(gateway, school, "qx-sync", rotate=action == "rotate")  # type: ignore[arg-type]
    except ProblemError as exc:
        print(f"error: {exc.code}: {exc.detail}", file=sys.stderr)
        return 1
    except BrokerAdminError as exc:
        print(f"error: the RabbitMQ management API: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def _run(gateway: object, seconds: float | None) -> int:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker = SyncWorker(gateway)  # type: ignore[arg-type]
    try:
        worker.run_for(seconds if seconds is not None else float("inf"), stop)
    finally:
        worker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
