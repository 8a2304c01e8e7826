"""What every operator command (``qx-accounts``, ``qx-records``, ``qx-signing``, ``qx-stats``,
``qx-sync``, ``qx-dlq``) does when its database or broker is not there: one line that says which and
why, exit status 1, instead of forty lines of traceback an operator has to read from the bottom."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc

from quxiang.common.bus.transport import TransportError

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["reports_unreachable_services"]


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def reports_unreachable_services(main: F) -> F:
    """Wrap a command's ``main``: a database that does not answer or is not migrated, or a broker
    that does not answer, becomes one line on stderr and exit status 1."""

    @functools.wraps(main)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return main(*args, **kwargs)
        except sa_exc.OperationalError as error:
            print(f"cannot reach the database: {_first_line(error)}", file=sys.stderr)
        except sa_exc.ProgrammingError as error:
            print(f"the database is not ready (are the migrations run?): {_first_line(error)}", file=sys.stderr)
        except TransportError as error:
            print(f"cannot reach the broker, or it refused: {_first_line(error)}", file=sys.stderr)
        return 1

    return run  # type: ignore[return-value]
