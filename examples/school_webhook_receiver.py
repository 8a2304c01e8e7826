#!/usr/bin/env python3
"""A school's webhook endpoint for the Quxiang school feed, standard library only (no platform code).

    QUXIANG_WEBHOOK_SECRET=whsec_... python school_webhook_receiver.py --port 8080 --db feed.sqlite

Every delivery is a POST of one JSON message with ``X-Quxiang-Timestamp`` and
``X-Quxiang-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>``. The receiver checks
the signature over the raw bytes (before parsing), refuses timestamps more than 300 s from its clock
(replays), stores each ``event_id`` once (deliveries are retried, so duplicates happen) and answers
204; 401 for a bad signature. Put it behind HTTPS.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sqlite3
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE = 300


def verify(secret: str, body: bytes, timestamp: str, signature: str, now: float | None = None) -> bool:
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - sent_at) > TOLERANCE:
        return False
    expected = "v1=" + hmac.new(secret.encode(), f"{sent_at}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature or "")


def make_handler(secret: str, db: sqlite3.Connection) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not verify(secret, body, self.headers.get("X-Quxiang-Timestamp", ""),
                          self.headers.get("X-Quxiang-Signature", "")):
                self.send_response(401)
                self.end_headers()
                return
            event = json.loads(body)
            with lock:
                new = db.execute("INSERT OR IGNORE INTO feed_events VALUES (?, ?, ?)",
                                 (event["event_id"], event["sequence"], body.decode())).rowcount == 1
                db.commit()
            if new:
                print(json.dumps(event, ensure_ascii=False), flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def open_store(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False)
    db.execute("CREATE TABLE IF NOT EXISTS feed_events (event_id TEXT PRIMARY KEY, sequence INTEGER, body TEXT)")
    db.commit()
    return db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Receive a school's Quxiang feed webhooks")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--db", default="feed.sqlite")
    args = parser.parse_args(argv)
    secret = os.environ.get("QUXIANG_WEBHOOK_SECRET")
    if not secret:
        print("set QUXIANG_WEBHOOK_SECRET to the subscription's secret", file=sys.stderr)
        return 2
    server = ThreadingHTTPServer(("0.0.0.0", args.port), make_handler(secret, open_store(args.db)))  # noqa: S104
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
