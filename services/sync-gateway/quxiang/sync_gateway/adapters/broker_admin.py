"""A small client of the RabbitMQ management HTTP API (plugin ``rabbitmq_management``): the feed's
topology and the schools' broker users with their permissions.

A school's user may read (consume from) its own queue and nothing else: configure ``^$`` (declare,
bind, delete nothing), write ``^$`` (publish nowhere), read ``^<its queue>$``. The broker enforces
it, whatever client the school uses.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import requests

DEFAULT_ADMIN_URL = "http://guest:guest@127.0.0.1:15672"


class BrokerAdminError(RuntimeError):
    """The management API refused or could not be reached."""


def vhost_of(broker_url: str) -> str:
    """The vhost of an amqp:// URL: its path without the leading slash, "/" when empty."""
    path = urlsplit(broker_url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


class BrokerAdmin:
    def __init__(self, admin_url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(admin_url)
        self.base = urlunsplit(parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else ""),
                                              path=parts.path.rstrip("/"))) + "/api"
        self.http = requests.Session()
        self.http.auth = (unquote(parts.username or "guest"), unquote(parts.password or "guest"))
        self.timeout = timeout

    def _call(self, method: str, path: str, json: Any = None, ok_missing: bool = False) -> Any:
        try:
            response = self.http.request(method, f"{self.base}{path}", json=json, timeout=self.timeout,
                                         headers={"X-Reason": "quxiang school feed"})
        except requests.RequestException as exc:
            raise BrokerAdminError(f"{method} {path}: {type(exc).__name__}") from None
        if response.status_code == 404 and ok_missing:
            return None
        if response.status_code >= 300:
            raise BrokerAdminError(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response.json() if response.content else None

    @staticmethod
    def _q(name: str) -> str:
        return quote(name, safe="")

    def overview(self) -> dict[str, Any]:
        return self._call("GET", "/overview")

    # -- topology --------------------------------------------------------------------------
    def declare_school_queue(self, vhost: str, exchange: str, queue: str, routing_key: str) -> None:
        v = self._q(vhost)
        self._call("PUT", f"/exchanges/{v}/{self._q(exchange)}", {"type": "direct", "durable": True})
        self._call("PUT", f"/queues/{v}/{self._q(queue)}",
                   {"durable": True, "arguments": {"x-queue-type": "quorum"}})
        self._call("POST", f"/bindings/{v}/e/{self._q(exchange)}/q/{self._q(queue)}", {"routing_key": routing_key})

    # -- users -----------------------------------------------------------------------------
    def put_user(self, username: str, password: str) -> None:
        self._call("PUT", f"/users/{self._q(username)}", {"password": password, "tags": ""})

    def grant_consume_only(self, vhost: str, username: str, queue: str) -> None:
        self._call("PUT", f"/permissions/{self._q(vhost)}/{self._q(username)}",
                   {"configure": "^$", "write": "^$", "read": f"^{re.escape(queue)}$"})

    def delete_user(self, username: str) -> None:
        self._call("DELETE", f"/users/{self._q(username)}", ok_missing=True)

    def users(self) -> list[str]:
        return [u["name"] for u in self._call("GET", "/users")]

    def permissions(self, vhost: str, username: str) -> dict[str, Any] | None:
        return self._call("GET", f"/permissions/{self._q(vhost)}/{self._q(username)}", ok_missing=True)

    def close_connections(self, username: str) -> None:
        """Close every connection of ``username`` at once. ``DELETE /connections/username/<user>``
        asks the broker itself, where the ``/connections`` list lags by the statistics interval (a
        connection opened seconds ago is not in it yet)."""
        self._call("DELETE", f"/connections/username/{self._q(username)}", ok_missing=True)
