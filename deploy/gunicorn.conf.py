"""gunicorn settings for every Quxiang API:

    gunicorn -c deploy/gunicorn.conf.py 'quxiang.common.wsgi:app_for("signing")'

Environment (all optional):

- ``QX_WEB_BIND`` (or ``GUNICORN_BIND``): address to listen on, default ``0.0.0.0:8000``.
- ``QX_WEB_WORKERS`` (or ``GUNICORN_WORKERS``): worker processes, default 2 × usable CPUs + 1.
- ``QX_WEB_THREADS``: threads per worker, default 1 (more turns the workers into gthread workers).
- ``QX_WEB_TIMEOUT``: seconds a request may take before its worker is replaced, default 120 (a
  50 MB roster import is validated in full before it answers); the gateway waits a little longer.
- ``QX_WEB_GRACEFUL_TIMEOUT``: seconds a stopping worker gets to finish, default 30.
- ``QX_WEB_CONTROL_SOCKET``: path of gunicorn's control socket (``gunicornc``); none by default.
- ``QX_WEB_ACCESS_LOG``: ``-`` (stdout, the default), a file, or ``off``.
- ``PROMETHEUS_MULTIPROC_DIR``: a folder only this gunicorn uses; every worker writes its metric
  values there and /metrics (any worker) adds them up. It is emptied at start, and a dead worker's
  live values are dropped by ``child_exit``. Without it each worker's /metrics shows its own counts.

The app is loaded in each worker after the fork (no ``preload_app``): the factory opens the
database engine and the broker connection there, so no socket is ever shared by two processes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any


def _env(*names: str, default: str) -> str:
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return default


def _usable_cpus() -> int:
    # The CPUs this process may run on (a container's cpuset), not the host's count.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


bind = [_env("QX_WEB_BIND", "GUNICORN_BIND", default="0.0.0.0:8000")]
workers = int(_env("QX_WEB_WORKERS", "GUNICORN_WORKERS", default=str(2 * _usable_cpus() + 1)))
threads = int(_env("QX_WEB_THREADS", default="1"))
timeout = int(_env("QX_WEB_TIMEOUT", default="120"))
graceful_timeout = int(_env("QX_WEB_GRACEFUL_TIMEOUT", default="30"))
keepalive = 5
preload_app = False
# gunicorn's control socket defaults to one path in $HOME, which a second gunicorn on the machine
# (every service is one) would take over; only where asked for.
_control_socket = _env("QX_WEB_CONTROL_SOCKET", default="")
if _control_socket:
    control_socket = _control_socket
control_socket_disable = not _control_socket

_access_log = _env("QX_WEB_ACCESS_LOG", default="-")
accesslog = None if _access_log == "off" else _access_log
errorlog = "-"
# The request id is the one the app answered with (the gateway's or its own), so an access line
# can be matched with the app's log lines and the problem a client quotes. The client address is
# the one the gateway saw. The path is logged without its query string, which may carry personal data
# (a name searched for, an identity number a client put there against the rules).
access_log_format = ('%({x-forwarded-for}i)s %(h)s "%(m)s %({script_name}e)s%(U)s %(H)s" %(s)s %(B)s %(M)sms '
                     'request_id=%({x-request-id}o)s "%(a)s"')


def on_starting(server: Any) -> None:
    """Empty the metrics folder: values left by an earlier run would be added to this one's."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    path = Path(folder)
    if path.exists():
        for entry in path.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    path.mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker ended (crash, timeout, recycling): drop its live gauge values."""
    from quxiang.common.web.metrics import mark_process_dead

    mark_process_dead(worker.pid)
