"""Commands: ``qx-relay SERVICE``, ``qx-consumer SERVICE [CONSUMER]``, ``qx-dlq list|replay CONSUMER``.

Each runs in its own process (never inside a web worker) and opens its connections after start.
SIGTERM and SIGINT stop them gracefully: the message or batch in hand is finished first.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from quxiang.common.bus import make_transport
from quxiang.common.bus.consumer import ConsumerRuntime
from quxiang.common.bus.process import prepare_worker_process
from quxiang.common.bus.relay import Relay
from quxiang.common.bus.transport import QueueSpec
from quxiang.common.config import load_config
from quxiang.common.db import make_engine
from quxiang.common.logging import configure_logging
from quxiang.common.operator_cli import reports_unreachable_services

log = logging.getLogger(__name__)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def _handler(signum: int, _frame: object) -> None:
        log.info("received signal %d, finishing the work in hand", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    return stop


def relay_main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="qx-relay", description="Publish a service's outbox to the bus.")
    parser.add_argument("service", help="service name, e.g. signing")
    args = parser.parse_args(argv)
    config = load_config(args.service)
    configure_logging(config.log_level, config.log_json, f"{args.service}-relay")
    engine = make_engine(config.database_url_for(args.service))
    stop = _stop_on_signals()
    prepare_worker_process()
    log.info("relay %s started", args.service)
    Relay(engine, make_transport(config), config, args.service).run(stop)


def consumer_main(argv: Sequence[str] | None = None) -> None:
    from quxiang.common.service import get_service

    parser = argparse.ArgumentParser(prog="qx-consumer", description="Run a service's event consumers.")
    parser.add_argument("service", help="service name, e.g. stats")
    parser.add_argument("consumer", nargs="?", help="one consumer of the service (default: all)")
    args = parser.parse_args(argv)
    definition = get_service(args.service)
    config = load_config(args.service)
    configure_logging(config.log_level, config.log_json, f"{args.service}-consumer")
    consumers = definition.all_consumers()
    if args.consumer:
        if args.consumer not in consumers:
            raise SystemExit(f"{args.service} has no consumer {args.consumer!r}; it has: {', '.join(consumers)}")
        consumers = {args.consumer: consumers[args.consumer]}
    if not consumers:
        raise SystemExit(f"{args.service} has no consumers")
    engine = make_engine(config.database_url_for(args.service))
    stop = _stop_on_signals()
    prepare_worker_process()
    threads = [threading.Thread(target=ConsumerRuntime(name, handlers, engine, make_transport(config), config,
                                                       producer=args.service).run,
                                args=(stop,), name=f"consumer-{name}") for name, handlers in consumers.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@reports_unreachable_services
def dlq_main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="qx-dlq", description="List or replay dead-lettered messages.")
    sub = parser.add_subparsers(dest="command", required=True)
    list_cmd = sub.add_parser("list", help="show dead-lettered messages (they stay in the queue)")
    list_cmd.add_argument("consumer")
    list_cmd.add_argument("--limit", type=int, default=100)
    replay = sub.add_parser("replay", help="send dead-lettered messages back to the consumer's queue")
    replay.add_argument("consumer")
    replay.add_argument("--id", dest="ids", action="append", help="message (event) id; repeatable; default all")
    replay.add_argument("--limit", type=int, default=10_000)
    args = parser.parse_args(argv)
    from quxiang.common.service import discover_services  # the services' packages, only here

    known = sorted(name for definition in discover_services().values() for name in definition.all_consumers())
    if args.consumer not in known:  # a typo would list an empty queue and look like a clean bill
        print(f"qx-dlq: {args.consumer!r} is no consumer of the installed services ({', '.join(known)}); "
              "looking for its dead-letter queue all the same", file=sys.stderr)
    config = load_config("dlq")
    configure_logging(config.log_level, False, "dlq")
    spec = QueueSpec.for_consumer(args.consumer, (), config)
    transport = make_transport(config)
    try:
        if args.command == "list":
            for message in transport.dead_letters(spec, args.limit):
                print(json.dumps({"message_id": message.message_id, "type": message.routing_key,
                                  "attempts": message.attempts, "failed_at": message.failed_at,
                                  "error": message.error}, ensure_ascii=False))
        else:
            count = transport.replay_dead_letters(spec, args.ids, args.limit)
            print(f"replayed {count} message(s) from {spec.dead_letter_queue} to {spec.queue}")
    finally:
        transport.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(dlq_main())
