"""Reading another service's snapshot pages (``GET /snapshots/...``: ``{items, next_cursor}``) with an
admin's token: what ``qx-stats rebuild --from-services`` and ``qx-records backfill-signing-records``
load from the owners."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import jwt
import requests

PAGE = 1000


class SnapshotUnreadable(RuntimeError):
    """A source answered something that is not a page of its snapshot."""


class NotAnAdminToken(ValueError):
    """A command that must read every province was given a token that is not an admin's."""


def require_admin_token(token: str, why: str = "this command reads every province") -> None:
    """Refuse a token that is not an admin's before anything is done. Only the role claim is read
    here (the services verify the signature when they answer)."""
    try:
        role = jwt.decode(token, options={"verify_signature": False}).get("role")
    except jwt.PyJWTError as exc:
        raise NotAnAdminToken(f"the token cannot be read: {exc}") from None
    if role != "admin":
        raise NotAnAdminToken(f"an admin's token is needed, not a {role!r} one: {why}")


_SNAPSHOT_OWNERS = {"graduates": "records", "registrations": "records", "agreements": "signing",
                    "destinations": "signing"}


def _service_in(url: str) -> str:
    """The service whose snapshot ``url`` asks for (its last path segment), for the hint."""
    return _SNAPSHOT_OWNERS.get(url.rstrip("/").rsplit("/", 1)[-1], "<service>")


def pages(url: str, token: str, params: Mapping[str, str] | None = None,
          http: Any = requests) -> Iterator[Mapping[str, Any]]:
    """Every row of the snapshot at ``url``, page by page."""
    cursor = None
    while True:
        query = {**(params or {}), "limit": str(PAGE), **({"cursor": cursor} if cursor else {})}
        response = http.get(url, params=query, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        response.raise_for_status()
        try:
            body = response.json()
            items = body["items"]
        except (ValueError, KeyError, TypeError):
            # A gateway's root answers its console page: the URL lacks the service's /api/<name>.
            raise SnapshotUnreadable(f"{url} did not answer a snapshot page (HTTP {response.status_code}, "
                                     f"{response.headers.get('Content-Type', 'no content type')}): give the "
                                     f"service's base URL, as http://gateway/api/{_service_in(url)}") from None
        yield from items
        cursor = body.get("next_cursor")
        if not cursor:
            return
