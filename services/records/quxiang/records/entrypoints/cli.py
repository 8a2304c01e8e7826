"""``qx-records``: operator commands of the records service.

    qx-records reencrypt [--batch-size N]    re-encrypt identity numbers still under an old key
    qx-records reencrypt --status            only count them, by key
    qx-records backfill-signing-records --signing-url URL [--token TOKEN]
                                             once after upgrading to 移出生源: the graduates signing holds
                                             records of, from its snapshots (an admin's token, or
                                             QX_RECORDS_SOURCE_TOKEN); until then no graduate is withdrawn
    qx-records republish-settings            announce every school's 档案/户口设置 again (a service's copy
                                             lost some; quxiang.common.bus.republish)
    qx-records after-restore [--version-fence N] [--serial-gap N]
                                             once, right after restoring the database from a dump and
                                             before the service starts again: every version and 转递编号
                                             counter moved past what was announced since the dump, and
                                             no withdrawal until backfill-signing-records ran again
                                             (quxiang.common.restore; docs/operations.md)

Key rotation of the identity numbers (see ``quxiang.records.adapters.crypto`` and
docs/configuration.md): set the new key as ``QX_RECORDS_ID_KEY``, move the previous one into
``QX_RECORDS_ID_OLD_KEYS``, restart the service, then run ``qx-records reencrypt`` with the same
environment. It works in batches, each its own transaction, and may be interrupted and run again at
any time; it ends by saying which old keys no row needs any more, which may then be dropped from
``QX_RECORDS_ID_OLD_KEYS``. Exit status 1 if some rows name a key that is not configured.

Adding a command: write ``_add_<name>(commands)`` that adds a sub-parser and sets ``run`` to a
function ``(args, service) -> exit status``, and list it in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import requests
from sqlalchemy import select

from quxiang.common import restore, snapshot_reader
from quxiang.common.bus.republish import record_again
from quxiang.common.config import Config, load_config
from quxiang.common.contracts.records import SCHOOL_SETTINGS_UPDATED
from quxiang.common.operator_cli import reports_unreachable_services
from quxiang.records.adapters import reencryption, repository
from quxiang.records.adapters.crypto import InvalidKey
from quxiang.records.adapters.tables import (
    graduate_confirmations,
    graduates,
    pending_work,
    registrations,
    school_module_settings,
    transfer_counters,
)
from quxiang.records.bootstrap import NAME, build_records
from quxiang.records.service import withdrawal
from quxiang.records.service.context import Records


def _counts(pending: dict[str, int]) -> str:
    return ", ".join(f"{kid}: {n}" for kid, n in sorted(pending.items())) or "none"


def reencrypt(args: argparse.Namespace, service: Records) -> int:
    cipher = service.cipher
    if args.status:
        pending = reencryption.pending_by_key(service.engine, cipher)
        print(f"current key {cipher.current_id}; graduates under other keys: {_counts(pending)}")
        return 0

    def report(done: reencryption.Reencryption) -> None:
        print(f"batch {done.batches}: {done.reencrypted} re-encrypted, {done.skipped} skipped so far", flush=True)

    done = reencryption.reencrypt(service.engine, cipher, batch_size=args.batch_size,
                                  progress=report if args.verbose else None)
    pending = reencryption.pending_by_key(service.engine, cipher)
    print(f"re-encrypted {done.reencrypted}, skipped {done.skipped} (changed meanwhile), "
          f"in {done.batches} batch(es) under key {cipher.current_id}")
    print(f"still under other keys: {_counts(pending)}")
    if done.unreadable:
        print(f"no configured key decrypts {_counts(done.unreadable)}: list those keys in QX_RECORDS_ID_OLD_KEYS "
              "and run again", file=sys.stderr)
    unused = [kid for kid in cipher.old_ids if kid not in pending]
    if unused:
        print(f"no graduate needs the old key(s) {', '.join(unused)} any more: they may be removed from "
              "QX_RECORDS_ID_OLD_KEYS")
    return 1 if done.unreadable else 0


def _add_reencrypt(commands: Any) -> None:
    parser = commands.add_parser("reencrypt", help="re-encrypt and re-hash identity numbers still under an old key",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=reencryption.DEFAULT_BATCH, metavar="N",
                        help=f"graduates per transaction (default {reencryption.DEFAULT_BATCH})")
    parser.add_argument("--status", action="store_true", help="only count the graduates under old keys")
    parser.add_argument("-v", "--verbose", action="store_true", help="a line per batch")
    parser.set_defaults(run=reencrypt)


def backfill_signing_records(args: argparse.Namespace, service: Records) -> int:
    if not args.token:
        print("an admin's access token is needed: --token or QX_RECORDS_SOURCE_TOKEN", file=sys.stderr)
        return 2
    try:
        snapshot_reader.require_admin_token(args.token, "signing's snapshots of every province are read")
    except snapshot_reader.NotAnAdminToken as exc:
        print(exc, file=sys.stderr)
        return 2
    base = args.signing_url.rstrip("/")
    try:
        held, noted = withdrawal.backfill_signing_records(
            service, snapshot_reader.pages(f"{base}/snapshots/agreements", args.token),
            snapshot_reader.pages(f"{base}/snapshots/destinations", args.token))
    except (snapshot_reader.SnapshotUnreadable, requests.RequestException) as exc:
        print(f"signing's snapshots could not be read: {exc}", file=sys.stderr)
        return 1
    print(f"signing holds records of {held} graduate(s), {noted} of them noted now (the rest were already); "
          "taking graduates off the roster is allowed")
    return 0


def _add_backfill_signing_records(commands: Any) -> None:
    parser = commands.add_parser("backfill-signing-records",
                                 help="once after the upgrade: the graduates signing holds records of")
    parser.add_argument("--signing-url", required=True, help="signing's base URL, as http://gateway/api/signing")
    parser.add_argument("--token", default=os.environ.get("QX_RECORDS_SOURCE_TOKEN"), help="an admin's access token")
    parser.set_defaults(run=backfill_signing_records)


def republish_settings(_args: argparse.Namespace, service: Records) -> int:
    with service.engine.connect() as conn:
        rows = conn.execute(select(school_module_settings.c.school_code, school_module_settings.c.module,
                                   school_module_settings.c.version)
                            .order_by(school_module_settings.c.school_code, school_module_settings.c.module)).all()
    count = record_again(service.unit_of_work, (
        (SCHOOL_SETTINGS_UPDATED, f"{r.school_code}.{r.module}", r.version,
         {"school_code": r.school_code, "module": r.module, "completed": True}) for r in rows))
    print(f"announced again: {count} school archive/hukou setting(s)")
    return 0


def _add_republish_settings(commands: Any) -> None:
    commands.add_parser("republish-settings", help="announce every school's 档案/户口设置 again (a service's copy "
                                                   "lost some)").set_defaults(run=republish_settings)


# Every versioned row records announces, and what holds a graduate's version (a confirmation is of
# one roster version: it must still match after the fence).
VERSIONED = (graduates.c.version, graduate_confirmations.c.graduate_version, school_module_settings.c.version,
             registrations.c.version)
MAX_TRANSFER_SERIAL = 9_999_999  # 转递编号's seven digits


def after_restore(args: argparse.Namespace, service: Records) -> int:
    """Fence versions and 转递编号 counters in one transaction; a (school, year) with graduates but no
    counter yet starts past the gap too. Withdrawals wait for ``backfill-signing-records``: the
    restored copy of what signing holds lost what signing recorded since the dump."""
    known = select(graduates.c.school_code, graduates.c.graduation_year).distinct()
    try:
        with service.engine.begin() as conn:
            fenced = restore.fence_versions(conn, VERSIONED, args.version_fence)
            moved, started = restore.skip_serials(conn, transfer_counters.c.last, args.serial_gap,
                                                  MAX_TRANSFER_SERIAL, known)
            if not repository.work_pending(conn, repository.SIGNING_RECORDS_BACKFILL):
                conn.execute(pending_work.insert().values(name=repository.SIGNING_RECORDS_BACKFILL,
                                                          since=repository.now()))
    except ValueError as exc:
        print(f"after-restore: {exc}", file=sys.stderr)
        return 2
    print("\n".join(restore.report(fenced, args.version_fence, "transfer_counters", moved, started,
                                   args.serial_gap)))
    print("withdrawals wait for: qx-records backfill-signing-records --signing-url ...")
    return 0


def _add_after_restore(commands: Any) -> None:
    restore.add_arguments(commands, "转递编号 per (school, year)").set_defaults(run=after_restore)


COMMANDS: list[Callable[[Any], None]] = [_add_reencrypt, _add_backfill_signing_records, _add_republish_settings,
                                         _add_after_restore]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qx-records", description="Operator commands of the records service.")
    commands = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(commands)
    return parser


@reports_unreachable_services
def main(argv: Sequence[str] | None = None, config: Config | None = None) -> int:
    """Run one command; the database is the records service's (QX_DATABASE_URL or the template), the
    keys those of the environment (QX_RECORDS_ID_KEY, QX_RECORDS_ID_OLD_KEYS)."""
    args = build_parser().parse_args(argv)
    if getattr(args, "batch_size", 1) < 1:
        build_parser().error("--batch-size must be at least 1")
    try:
        service = build_records(config or load_config(NAME))
    except InvalidKey as exc:  # one line naming the setting, not a traceback
        print(f"records' identity-number key: {exc}", file=sys.stderr)
        return 2
    try:
        return args.run(args, service)
    finally:
        service.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
