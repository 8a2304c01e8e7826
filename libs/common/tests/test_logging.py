from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from quxiang.common import context
from quxiang.common.logging import IdentityNumberFilter, configure_logging

ID = "11010519491231002X"
MASKED = "110***********002X"


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_line_fields() -> None:
    stream = io.StringIO()
    configure_logging("INFO", True, "registry", stream=stream)
    logging.getLogger("qx.test").info("hello %s", "世界")
    [entry] = json_lines(stream)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "qx.test"
    assert entry["message"] == "hello 世界"
    assert entry["service"] == "registry"
    assert entry["request_id"] is None and entry["event_id"] is None
    assert "traceback" not in entry
    ts = datetime.fromisoformat(entry["ts"])
    assert ts.utcoffset() is not None and ts.utcoffset().total_seconds() == 0


def test_request_and_event_ids_from_context() -> None:
    stream = io.StringIO()
    configure_logging("INFO", True, "registry", stream=stream)
    log = logging.getLogger("qx.test")
    with context.request_context("req-1"):
        log.info("in request")
    with context.event_context("evt-9", "corr-3"):
        log.info("in handler")
    first, second = json_lines(stream)
    assert (first["request_id"], first["event_id"]) == ("req-1", None)
    assert (second["request_id"], second["event_id"]) == ("corr-3", "evt-9")


def test_exception_becomes_traceback_string() -> None:
    stream = io.StringIO()
    configure_logging("INFO", True, "registry", stream=stream)
    try:
        raise KeyError("missing thing")
    except KeyError:
        logging.getLogger("qx.test").exception("it failed")
    [entry] = json_lines(stream)
    assert entry["message"] == "it failed"
    assert entry["traceback"].startswith("Traceback (most recent call last):")
    assert "KeyError: 'missing thing'" in entry["traceback"]


def test_multiline_message_stays_one_line_and_extras_are_kept() -> None:
    stream = io.StringIO()
    configure_logging("INFO", True, "registry", stream=stream)
    logging.getLogger("qx.test").info("line1\nline2", extra={"student": ID, "count": 2, "obj": object()})
    [entry] = json_lines(stream)
    assert entry["message"] == "line1\nline2"
    assert entry["student"] == MASKED
    assert entry["count"] == 2
    assert entry["obj"].startswith("<object object")


def test_configure_twice_does_not_double_handlers() -> None:
    first, second = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    before = len(root.handlers)
    configure_logging("INFO", True, "registry", stream=first)
    configure_logging("DEBUG", True, "registry", stream=second)
    assert len(root.handlers) == before + 1
    assert root.level == logging.DEBUG
    logging.getLogger("qx.test").debug("once")
    assert first.getvalue() == ""
    assert len(json_lines(second)) == 1


def test_unknown_level_is_rejected_and_keeps_the_current_handler() -> None:
    stream = io.StringIO()
    configure_logging("INFO", True, "registry", stream=stream)
    with pytest.raises(ValueError, match="VERBOSE"):
        configure_logging("VERBOSE", True, "registry")
    logging.getLogger("qx.test").warning("still here")
    assert json_lines(stream)[0]["message"] == "still here"


def test_level_filters() -> None:
    stream = io.StringIO()
    configure_logging("warning", True, "registry", stream=stream)
    logging.getLogger("qx.test").info("dropped")
    assert stream.getvalue() == ""


def test_text_format_has_request_id() -> None:
    stream = io.StringIO()
    configure_logging("INFO", False, "registry", stream=stream)
    with context.request_context("req-txt"):
        logging.getLogger("qx.test").info("plain %s", ID)
    line = stream.getvalue()
    assert "[registry rid=req-txt]" in line
    assert MASKED in line and ID not in line


def test_identity_number_redacted_in_message_and_args() -> None:
    stream = io.StringIO()
    configure_logging("INFO", True, "registry", stream=stream)
    log = logging.getLogger("qx.test")
    log.info(f"literal {ID}")
    log.info("arg %s", ID)
    log.info("dict arg %(who)s", {"who": ID})
    log.info("object arg %s", {"student": {"id": ID}})
    messages = [e["message"] for e in json_lines(stream)]
    assert messages == [
        f"literal {MASKED}",
        f"arg {MASKED}",
        f"dict arg {MASKED}",
        f"object arg {{'student': {{'id': '{MASKED}'}}}}",
    ]
    assert ID not in stream.getvalue()


def test_identity_number_redacted_in_traceback() -> None:
    stream = io.StringIO()
    configure_logging("INFO", True, "registry", stream=stream)
    try:
        raise ValueError(f"duplicate key (id_number)=({ID})")
    except ValueError:
        logging.getLogger("qx.test").exception("insert failed")
    [entry] = json_lines(stream)
    assert MASKED in entry["traceback"] and ID not in entry["traceback"]


def test_longer_digit_runs_are_not_touched() -> None:
    stream = io.StringIO()
    configure_logging("INFO", True, "registry", stream=stream)
    logging.getLogger("qx.test").info("card %s", "6222021949123100212")
    assert json_lines(stream)[0]["message"] == "card 6222021949123100212"


def test_filter_masks_args_even_when_the_format_is_broken() -> None:
    record = logging.LogRecord("qx.test", logging.INFO, __file__, 1, "needs two %s %s", (ID,), None)
    assert IdentityNumberFilter().filter(record) is True
    assert record.args == (MASKED,)


def test_filter_leaves_record_renderable() -> None:
    record = logging.LogRecord("qx.test", logging.INFO, __file__, 1, "id %s and %d", (ID, 7), None)
    IdentityNumberFilter().filter(record)
    assert record.getMessage() == f"id {MASKED} and 7"
    # Running twice (two handlers with the filter) changes nothing more.
    IdentityNumberFilter().filter(record)
    assert record.getMessage() == f"id {MASKED} and 7"
