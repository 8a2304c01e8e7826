#!/usr/bin/env python3
"""A school's consumer of the Quxiang school feed (学校数据订阅), as a school IT department would write
it: plain pika, nothing of the platform imported.

    pip install pika==1.4.4
    python school_feed_consumer.py --url 'amqp://qx-feed-10558:PASSWORD@mq.example.cn:5672/%2F' \\
        --queue qx.feed.school.10558 --db feed.sqlite

Each message is a JSON object (see the AsyncAPI document, /api/sync-gateway/feed/asyncapi.json).
Delivery is at least once, so the consumer remembers every ``event_id`` it stored in a small SQLite
file: a message seen before is acknowledged and skipped. It acknowledges only after the row is
committed, so a crash in between means the message comes again, never that it is lost. One message
per line goes to stdout as JSON; with ``--idle-exit N`` it stops after N seconds without messages.

Exit codes: 0 done, 3 the broker refused access (wrong queue, revoked or wrong credentials), 4 the
broker closed the connection (e.g. the credential was revoked or rotated while connected).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time

import pika
import pika.exceptions


def open_store(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE IF NOT EXISTS feed_events (event_id TEXT PRIMARY KEY, sequence INTEGER, "
               "exam_number TEXT, change TEXT, body TEXT NOT NULL, received_at REAL NOT NULL)")
    db.commit()
    return db


def store(db: sqlite3.Connection, event: dict) -> bool:
    """True when the event is new (stored now), False when it was stored before."""
    cursor = db.execute("INSERT OR IGNORE INTO feed_events VALUES (?, ?, ?, ?, ?, ?)",
                        (event["event_id"], event.get("sequence"), event.get("exam_number"), event.get("change"),
                         json.dumps(event, ensure_ascii=False), time.time()))
    db.commit()
    return cursor.rowcount == 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Consume a school's Quxiang feed queue")
    parser.add_argument("--url", required=True, help="amqp://user:password@host:port/vhost (vhost URL-encoded)")
    parser.add_argument("--queue", required=True, help="qx.feed.school.<school code>")
    parser.add_argument("--db", default="feed.sqlite", help="the SQLite file remembering stored events")
    parser.add_argument("--idle-exit", type=float, default=None, help="stop after this many idle seconds")
    args = parser.parse_args(argv)

    db = open_store(args.db)
    params = pika.URLParameters(args.url)
    params.heartbeat = 30
    try:
        connection = pika.BlockingConnection(params)
        channel = connection.channel()
        channel.basic_qos(prefetch_count=50)
        # consume() yields (None, None, None) after inactivity_timeout seconds without a message
        for method, _properties, body in channel.consume(args.queue, auto_ack=False,
                                                        inactivity_timeout=args.idle_exit):
            if method is None:
                break
            event = json.loads(body)
            if store(db, event):
                print(json.dumps(event, ensure_ascii=False), flush=True)
            else:
                print(f"duplicate {event['event_id']} skipped", file=sys.stderr, flush=True)
            channel.basic_ack(method.delivery_tag)
        channel.cancel()
        connection.close()
    except (pika.exceptions.ProbableAccessDeniedError, pika.exceptions.ProbableAuthenticationError) as exc:
        print(f"ACCESS_REFUSED: login refused: {exc!r}", file=sys.stderr)
        return 3
    except pika.exceptions.ConnectionClosedByBroker as exc:
        print(f"connection closed by the broker: {exc.reply_code} {exc.reply_text}", file=sys.stderr)
        return 4
    except pika.exceptions.ChannelClosedByBroker as exc:
        print(f"{exc.reply_text or exc}", file=sys.stderr)
        return 3 if exc.reply_code == 403 else 1
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
