"""``qx-accounts``: operator commands of the accounts service.

    qx-accounts keys list                          the signing keys and their state
    qx-accounts keys rotate                        a new key signs from now on; the old one retires
    qx-accounts keys prune [--older-than-hours N]  stop publishing keys retired more than N hours ago
    qx-accounts create-admin --username NAME [--display-name TEXT]
                                                   the platform administrator (the password from
                                                   QX_ADMIN_PASSWORD, else asked twice at the terminal)
    qx-accounts republish-directory [--province NN]
                                                   every school, department, module switched on,
                                                   agreement type and unit (with its stop) announced again
                                                   (a service's copy lost some)
    qx-accounts demo                               demo data and logins (see quxiang.accounts.entrypoints.demo)

A new installation starts with ``create-admin``: the administrator then creates the provinces'
accounts (``POST /api/accounts/province-accounts`` or the console), and they their schools'.

Key rotation. The signing keys are Ed25519 private keys in the accounts database; their public
halves are the JWKS (``/.well-known/jwks.json``) that every service verifies access tokens with,
choosing the key by the token's ``kid``. ``rotate`` makes a new key the one that signs and retires
the previous one, which stays published, so tokens it signed keep verifying until they expire
(``ACCESS_TOKEN_TTL``, 15 minutes). Services learn the new key without a restart: a token naming a
``kid`` they do not know makes them fetch the JWKS again. ``prune`` then stops publishing retired
keys; it refuses an age shorter than the access token lifetime, which would void live tokens.
Routine: ``rotate`` (e.g. monthly, or at once if a key may have leaked), ``prune`` an hour or more
later. After a leak, rotate, prune with the minimum age once the old tokens expired, and revoke the
sessions that matter.

Adding a command: write ``_add_<name>(commands)`` that adds a sub-parser and sets ``run`` to a
function ``(args, service) -> exit status``, and list it in ``COMMANDS``. ``service`` is the same
``Accounts`` the web app uses, built from the environment's configuration.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from quxiang.accounts.adapters.credentials import list_signing_keys
from quxiang.accounts.bootstrap import build_accounts
from quxiang.accounts.service import directory
from quxiang.accounts.service.auth import ACCESS_TOKEN_TTL
from quxiang.accounts.service.context import Accounts
from quxiang.common.auth.tokens import LEEWAY_SECONDS
from quxiang.common.config import Config, load_config
from quxiang.common.operator_cli import reports_unreachable_services

NAME = "accounts"
DEFAULT_PRUNE_AGE_HOURS = 1.0
# Younger retired keys may have signed tokens that are still valid (plus the verifiers' leeway).
MIN_PRUNE_AGE_HOURS = (ACCESS_TOKEN_TTL + LEEWAY_SECONDS) / 3600

Run = Callable[[argparse.Namespace, Accounts], int]


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def keys_list(_args: argparse.Namespace, service: Accounts) -> int:
    with Session(service.engine) as session:
        keys = list_signing_keys(session)
    if not keys:
        print("no signing keys yet: the first login creates one, or run `qx-accounts keys rotate`")
    for key in keys:
        print(f"{key.kid}\t{key.status}\tcreated {_when(key.created_at)}\tretired {_when(key.retired_at)}"
              f"\tremoved {_when(key.removed_at)}")
    return 0


def keys_rotate(_args: argparse.Namespace, service: Accounts) -> int:
    kid = service.keyring.rotate()
    print(f"{kid} signs from now on; retired keys stay published until `qx-accounts keys prune`")
    return 0


def keys_prune(args: argparse.Namespace, service: Accounts) -> int:
    if args.older_than_hours < MIN_PRUNE_AGE_HOURS:
        print(f"--older-than-hours must be at least {MIN_PRUNE_AGE_HOURS:.2f}: younger retired keys signed "
              "access tokens that are still valid", file=sys.stderr)
        return 2
    removed = service.keyring.prune(timedelta(hours=args.older_than_hours))
    print(f"no longer published: {', '.join(removed)}" if removed else "nothing to prune")
    return 0


def _add_keys(commands: Any) -> None:
    keys = commands.add_parser("keys", help="the token signing keys (rotation)", description=__doc__,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = keys.add_subparsers(dest="action", required=True, metavar="{list,rotate,prune}")
    actions.add_parser("list", help="every key and its state: signing, retired or removed").set_defaults(
        run=keys_list)
    actions.add_parser("rotate", help="make a new signing key; the current one retires").set_defaults(
        run=keys_rotate)
    prune = actions.add_parser("prune", help="stop publishing keys retired long enough ago")
    prune.add_argument("--older-than-hours", type=float, default=DEFAULT_PRUNE_AGE_HOURS, metavar="N",
                       help=f"retired more than N hours ago (default {DEFAULT_PRUNE_AGE_HOURS:g}, "
                            f"minimum {MIN_PRUNE_AGE_HOURS:.2f})")
    prune.set_defaults(run=keys_prune)


def demo(_args: argparse.Namespace, service: Accounts) -> int:
    from quxiang.accounts.entrypoints.demo import run_demo  # the demo module, only when asked for

    run_demo(service.config)
    return 0


def create_admin(args: argparse.Namespace, service: Accounts) -> int:
    from quxiang.accounts.domain.model import DomainError
    from quxiang.accounts.service.management import create_admin as create

    password = os.environ.get("QX_ADMIN_PASSWORD") or _ask_password()
    if not password:
        print("no password: set QX_ADMIN_PASSWORD or run at a terminal to be asked", file=sys.stderr)
        return 2
    try:
        view = create(service, username=args.username, display_name=args.display_name, password=password)
    except DomainError as exc:
        print(f"not created: {exc.message} ({exc.code})", file=sys.stderr)
        return 1
    print(f"administrator {view.user.username} created (id {view.user.id})")
    return 0


def _ask_password() -> str | None:
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass("password of the new administrator: ")
    if first != getpass.getpass("the same again: "):
        print("the two passwords differ", file=sys.stderr)
        return None
    return first


def _add_create_admin(commands: Any) -> None:
    command = commands.add_parser("create-admin", help="create the platform administrator (password from "
                                                       "QX_ADMIN_PASSWORD, else asked at the terminal)")
    command.add_argument("--username", required=True)
    command.add_argument("--display-name", default="平台管理员")
    command.set_defaults(run=create_admin)


def cap_departments(_args: argparse.Namespace, service: Accounts) -> int:
    from quxiang.accounts.service.management import cap_all_departments

    print(f"{cap_all_departments(service)} department account(s) lowered to their school's highest right")
    return 0


def _add_cap_departments(commands: Any) -> None:
    commands.add_parser("cap-departments", help="hold every department account to its school's highest right "
                                                "(once after upgrading: rights granted before the rule)"
                        ).set_defaults(run=cap_departments)


def republish_directory(args: argparse.Namespace, service: Accounts) -> int:
    print(directory.republish(service, args.province).line())
    return 0


def _add_republish_directory(commands: Any) -> None:
    command = commands.add_parser(
        "republish-directory", help="announce every school, department, module, agreement type and unit again, "
                                    "for a service whose copy lost some (each keeps the newest; nothing else moves)")
    command.add_argument("--province", help="only this province's (a two-digit code)")
    command.set_defaults(run=republish_directory)


def _add_demo(commands: Any) -> None:
    commands.add_parser("demo", help="create the demo province, schools and users (idempotent) and print "
                                     "the demo logins (password Demo2026!)").set_defaults(run=demo)


COMMANDS: list[Callable[[Any], None]] = [_add_keys, _add_create_admin, _add_cap_departments,
                                          _add_republish_directory, _add_demo]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qx-accounts", description="Operator commands of the accounts service.")
    commands = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(commands)
    return parser


@reports_unreachable_services
def main(argv: Sequence[str] | None = None, config: Config | None = None) -> int:
    """Run one command; the database is the accounts service's (QX_DATABASE_URL or the template)."""
    args = build_parser().parse_args(argv)
    service = build_accounts(config or load_config(NAME))
    try:
        return args.run(args, service)
    finally:
        service.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
