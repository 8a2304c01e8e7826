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


ROSTER_HEADER = "考生号,学号,姓名,性别,身份证号,院系,专业代码,专业名称,学历,生源所在地,毕业年份,手机号,邮箱\n"


def roster_graduate(base: str, exam: str, student: str, name: str, identity: str) -> str:
    """A new 中山大学 graduate of 计算机学院 (signing's settings saved first): its activation code."""
    school = login_token(base, "demo-zsu")
    retry(lambda: api_json(base, "PUT", "/signing/schools/10558/settings", school,
                           {"department_review": True, "notice": None}), "signing knows 中山大学")
    csv = ROSTER_HEADER + f"{exam},{student},{name},男,{identity},CS,080901,计算机科学与技术,31,440106,2026,,\n"
    api_json(base, "POST", "/records/schools/10558/roster/imports", school, files={"file": ("生源.csv", csv.encode())})

    def code() -> str:
        issued = api_json(base, "POST", "/accounts/schools/10558/activation-codes/issue", school)
        found = {c["exam_number"]: c["activation_code"] for c in issued["codes"]}
        assert exam in found, issued
        return found[exam]

    return retry(code, "the graduate's account provisioned from the roster")
