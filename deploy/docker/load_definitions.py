"""Load the bus topology (deploy/rabbitmq/definitions.json) into the broker's vhost.

    python deploy/docker/load_definitions.py [DEFINITIONS_FILE]

It posts the file to the management API's per-vhost import (``POST /api/definitions/<vhost>``),
which adds or updates what the file names and leaves everything else alone, so it is safe to run on
every deployment. The vhost is the one of ``QX_BROKER_URL``; the API is ``QX_BROKER_ADMIN_URL``
(``http://user:password@host:15672``). Not at the broker's boot: a boot-time import skips creating
the default user, and the file carries no users or passwords.

The file names the default exchange and queue prefix (``qx.events``, ``qx``): with other
``QX_EXCHANGE`` / ``QX_QUEUE_PREFIX`` values it refuses, rather than set up names nobody uses.
Waits up to ``--wait`` seconds (default 120) for the management API to answer.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "rabbitmq" / "definitions.json"
DEFAULT_ADMIN_URL = "http://guest:guest@127.0.0.1:15672"


class DefinitionsError(RuntimeError):
    """The file does not fit the configuration, or the broker refused it."""


def vhost_of(broker_url: str) -> str:
    path = urlsplit(broker_url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def check_names(definitions: Mapping[str, object], environ: Mapping[str, str]) -> None:
    exchange = environ.get("QX_EXCHANGE") or "qx.events"
    prefix = environ.get("QX_QUEUE_PREFIX") or "qx"
    names = {e["name"] for e in definitions.get("exchanges", [])}  # type: ignore[union-attr,index]
    queues = {q["name"] for q in definitions.get("queues", [])}  # type: ignore[union-attr,index]
    if exchange not in names or f"{prefix}.unrouted" not in queues:
        raise DefinitionsError(f"the definitions are for QX_EXCHANGE=qx.events and QX_QUEUE_PREFIX=qx, not "
                               f"{exchange!r} and {prefix!r}: edit a copy of the file for these names")


def import_request(admin_url: str, vhost: str, body: bytes) -> urllib.request.Request:
    parts = urlsplit(admin_url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{host}:{parts.port}" if parts.port else host
    url = f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}/api/definitions/{quote(vhost, safe='')}"
    request = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 - http(s) from config
                                     headers={"Content-Type": "application/json"})
    user, password = unquote(parts.username or "guest"), unquote(parts.password or "guest")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    return request


def load(path: Path, environ: Mapping[str, str], wait: float) -> str:
    definitions = json.loads(path.read_text(encoding="utf-8"))
    check_names(definitions, environ)
    vhost = vhost_of(environ.get("QX_BROKER_URL", ""))
    request = import_request(environ.get("QX_BROKER_ADMIN_URL") or DEFAULT_ADMIN_URL, vhost,
                             json.dumps(definitions).encode())
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - configured URL
                response.read()
            return vhost
        except urllib.error.HTTPError as exc:
            # 4xx: the broker read the file and refused it; waiting will not help.
            if exc.code < 500:
                raise DefinitionsError(f"the broker refused the definitions ({exc.code}): "
                                       f"{exc.read().decode(errors='replace')[:500]}") from None
            reason = f"HTTP {exc.code}"
        except OSError as exc:
            reason = str(exc)
        if time.monotonic() >= deadline:
            raise DefinitionsError(f"the management API did not answer in {wait:.0f}s: {reason}")
        time.sleep(2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="load_definitions", description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the management API")
    args = parser.parse_args(argv)
    try:
        vhost = load(args.file, os.environ, args.wait)
    except DefinitionsError as exc:
        print(f"load_definitions: {exc}", file=sys.stderr)
        return 1
    print(f"loaded {args.file} into vhost {vhost!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
