"""What every operator command (``qx-accounts``, ``qx-records``, ``qx-signing``, ``qx-stats``,
``qx-sync``, ``qx-dlq``) does when its database or broker is not there: one line that says which and
why, exit status 1, instead of forty lines of traceback an operator has to read from the bottom."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from quxiang.common.bus.transport import TransportError

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["reports_unreachable_services"]


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _missing_table(message: str) -> bool:
    """SQLite says a missing table is an OperationalError; PostgreSQL's UndefinedTable is a
    ProgrammingError. A missing database or role "does not exist" too: that is no connection."""
    return "no such table" in message or ("relation " in message and "does not exist" in message)


def _service_of(main: Callable[..., Any]) -> str | None:
    """``quxiang.sync_gateway.entrypoints.cli`` -> ``sync-gateway``; None for the shared commands."""
    parts = (getattr(main, "__module__", "") or "").split(".")
    if len(parts) > 1 and parts[0] == "quxiang" and parts[1] != "common":
        return parts[1].replace("_", "-")
    return None


def _database_of(main: Callable[..., Any]) -> str:
    """` (database URL)`, password hidden, as the command's settings name it: an operator who ran it
    with the wrong environment sees at once which database it used."""
    service = _service_of(main)
    if service is None:
        return ""
    try:
        from quxiang.common.config import load_config

        url = make_url(load_config(service).database_url_for(service))
        return f" ({url.render_as_string(hide_password=True)})"
    except Exception:  # noqa: BLE001 - the message is a hint; the settings' own error comes elsewhere
        return ""


def reports_unreachable_services(main: F) -> F:
    """Wrap a command's ``main``: a database that does not answer or is not migrated, or a broker
    that does not answer, becomes one line on stderr (naming the database the settings point at)
    and exit status 1."""

    @functools.wraps(main)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return main(*args, **kwargs)
        except (sa_exc.OperationalError, sa_exc.ProgrammingError) as error:
            first = _first_line(error)
            if isinstance(error, sa_exc.ProgrammingError) or _missing_table(first):
                print(f"the database{_database_of(main)} is not migrated (run the migrations, or check "
                      f"QX_DATABASE_URL_TEMPLATE / QX_DATA_DIR): {first}", file=sys.stderr)
            else:
                print(f"cannot reach the database{_database_of(main)}: {first}", file=sys.stderr)
        except TransportError as error:
            print(f"cannot reach the broker, or it refused: {_first_line(error)}", file=sys.stderr)
        return 1

    return run  # type: ignore[return-value]
