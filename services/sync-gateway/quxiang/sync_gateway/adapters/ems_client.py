"""The HTTP client of ems-sim (the employment management system stand-in): one ``requests`` session
with a connection pool as large as the worker's concurrency, so connections are reused. Writes go one
by one (``PUT /graduates/<exam_number>/<kind>``) or many per request (``POST /batch``)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from quxiang.sync_gateway.domain.delivery import Outcome, Result, classify

DEFAULT_URL = "http://127.0.0.1:8000/api/ems-sim"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: the backoff decides


@dataclass(frozen=True)
class Write:
    exam_number: str
    kind: str
    body: Mapping[str, Any]
    key: str


def _item_result(answer: Any) -> Result:
    status = answer.get("status") if isinstance(answer, dict) else None
    body = answer.get("body") if isinstance(answer, dict) else None
    if not isinstance(status, int):
        return Result(Outcome.UNAVAILABLE, "batch: malformed item answer")
    if status >= 300:
        return classify(status, None, json.dumps(body, ensure_ascii=False)[:300])
    return Result(Outcome.SYNCED, write=body.get("write") if isinstance(body, dict) else None)


def _failed(exc: requests.RequestException) -> Result:
    """A request that got no answer: unavailable, and in doubt unless it cannot have reached the EMS
    (the connection was never made: refused, a name that does not resolve, a connect timeout)."""
    return Result(Outcome.UNAVAILABLE, f"{type(exc).__name__}: {exc}"[:500], in_doubt=not _never_sent(exc))


def _never_sent(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ReadTimeout) or not isinstance(exc, requests.ConnectionError):
        return False
    cause = exc.args[0] if exc.args else None
    # urllib3 wraps the failed connection (NameResolutionError is one) in MaxRetryError.reason
    return isinstance(getattr(cause, "reason", cause), urllib3.exceptions.NewConnectionError)


class EmsClient:
    def __init__(self, base_url: str = DEFAULT_URL, pool_size: int = 16, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def put_record(self, exam_number: str, kind: str, body: Mapping[str, Any], key: str) -> Result:
        """One write; the idempotency key makes a repeat harmless."""
        try:
            response = self.session.put(f"{self.base_url}/graduates/{exam_number}/{kind}", json=dict(body),
                                        headers={"Idempotency-Key": key}, timeout=self.timeout)
        except requests.RequestException as exc:
            return _failed(exc)
        if response.status_code >= 300:
            return classify(response.status_code, _retry_after(response.headers.get("Retry-After")),
                            response.text[:300])
        try:
            answer = response.json()
        except ValueError:
            answer = None
        # A 2xx is the EMS's word that it wrote; what it says besides is informative only (a body
        # that is not an object, as a body that is not JSON, must not stop the round).
        return Result(Outcome.SYNCED, write=answer.get("write") if isinstance(answer, dict) else None)

    def put_records(self, writes: Sequence[Write]) -> list[Result]:
        """Many writes in one request (``POST /batch``), each on its own idempotency key and answered on
        its own; a failure of the request as a whole (refused, timeout, 5xx, 429) is every item's."""
        items = [{"kind": w.kind, "exam_number": w.exam_number, "idempotency_key": w.key, "record": dict(w.body)}
                 for w in writes]
        try:
            response = self.session.post(f"{self.base_url}/batch", json={"items": items}, timeout=self.timeout)
        except requests.RequestException as exc:
            return [_failed(exc)] * len(writes)
        if response.status_code >= 300:
            whole = classify(response.status_code, _retry_after(response.headers.get("Retry-After")),
                             response.text[:300])
            return [whole] * len(writes)
        try:
            answers = response.json()["items"]
        except (ValueError, KeyError, TypeError):
            answers = None
        if not isinstance(answers, list) or len(answers) != len(writes):
            # Items may have been written; their keys make sending them again harmless.
            return [Result(Outcome.UNAVAILABLE, "batch: malformed answer")] * len(writes)
        return [_item_result(answer) for answer in answers]

    def probe(self) -> bool:
        """Whether the EMS answers a read (the circuit breaker's probe)."""
        try:
            response = self.session.get(f"{self.base_url}/records", params={"limit": 1}, timeout=self.timeout)
        except requests.RequestException:
            return False
        return response.status_code < 500 and response.status_code != 429

    def graduate(self, exam_number: str) -> dict[str, Any] | None:
        response = self.session.get(f"{self.base_url}/graduates/{exam_number}", timeout=self.timeout)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def records(self, kind: str, school_code: str | None = None, limit: int = 1000) -> Iterator[dict[str, Any]]:
        """Every EMS record of ``kind`` (of one school), page by page."""
        params: dict[str, Any] = {"kind": kind, "limit": limit}
        if school_code:
            params["school_code"] = school_code
        while True:
            response = self.session.get(f"{self.base_url}/records", params=params, timeout=self.timeout)
            response.raise_for_status()
            page = response.json()
            yield from page.get("items", [])
            cursor = page.get("next_cursor")
            if not cursor:
                return
            params["cursor"] = cursor
