"""The calls a browser test makes as other users would, beside the browser: JSON (or a multipart
upload) straight to the served suite's APIs, and waiting for what travels between the services."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

PASSWORD = "Demo2026!"


def retry(action: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Events travel between the services: some calls succeed only once an event has arrived."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return action()
        except (AssertionError, urllib.error.HTTPError):
            if time.monotonic() > deadline:
                raise AssertionError(f"not within {timeout}s: {what}") from None
            time.sleep(0.5)


def api_json(base: str, method: str, path: str, token: str | None = None, body: dict[str, Any] | None = None,
             files: dict[str, tuple[str, bytes]] | None = None) -> Any:
    """A call as another user would make it (JSON, or a multipart upload); the answer's JSON."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if files:
        boundary = "qx-browser-test"
        parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n"
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
                 for field, (name, data) in files.items()]
        data = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    else:
        data = json.dumps(body or {}).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(f"{base}/api{path}", data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read() or b"null")


def login_token(base: str, username: str, password: str = PASSWORD) -> str:
    return api_json(base, "POST", "/accounts/auth/login", body={"username": username, "password": password})[
        "access_token"]
