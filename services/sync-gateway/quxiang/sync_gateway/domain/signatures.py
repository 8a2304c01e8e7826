"""Webhook signatures: HMAC-SHA256 over ``timestamp + "." + body`` with the subscription's secret.

Headers: ``X-Quxiang-Timestamp`` (Unix seconds) and ``X-Quxiang-Signature: v1=<hex>``. A receiver
recomputes the HMAC over the raw body bytes and rejects a timestamp further than the tolerance
window (default 300 s) from its own clock, so a captured delivery cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Quxiang-Timestamp"
SIGNATURE_HEADER = "X-Quxiang-Signature"
EVENT_ID_HEADER = "X-Quxiang-Event-Id"
DELIVERY_HEADER = "X-Quxiang-Delivery"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, body)}


def verify(secret: str, body: bytes, headers: Mapping[str, str], tolerance: int = DEFAULT_TOLERANCE,
           now: float | None = None) -> bool:
    """True when ``headers`` carry a valid signature of ``body`` made within ``tolerance`` seconds."""
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), given)
