"""Identity numbers (身份证号): the run's complete logs (every record at DEBUG, from the scripted run
and every test before this one) and every event any service wrote hold none in full; every list and
export shows them masked. The one place the full number is shown on purpose is a graduate's detail
(records) for the graduate itself and its school and province, and that view is audited."""

from __future__ import annotations

import io
import json
import logging

import openpyxl
from security_endpoints import TABLE, concrete_path
from security_scenario import IDENTITY_NUMBERS
from sqlalchemy import select

from quxiang.common.bus.tables import outbox
from quxiang.common.pii import identity_numbers_in, mask_identity_number

SHOWN_ON_PURPOSE = {("records", "GET", "/graduates/<graduate_id>")}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def text_of(response) -> str:
    if response.mimetype == XLSX:
        book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
        return "\n".join(" ".join("" if v is None else str(v) for v in row)
                         for sheet in book.worksheets for row in sheet.iter_rows(values_only=True))
    if response.mimetype in ("application/pdf", "application/octet-stream"):
        return ""  # the agreement PDF names the graduate's identity number by design (a signed contract)
    return response.get_data(as_text=True)


def test_the_numbers_went_through_the_platform(world):
    """The audit below is not vacuous: the roster's numbers are stored and shown where they should be."""
    graduate = {"Authorization": f"Bearer {world.token(_principal(world, 'school_w'))}"}
    detail = world.client("records").get(f"/graduates/{world.ids['graduate']}", headers=graduate).get_json()
    assert detail["identity_number"] == IDENTITY_NUMBERS[0]
    listed = world.client("records").get("/schools/10558/graduates", headers=graduate).get_data(as_text=True)
    assert mask_identity_number(IDENTITY_NUMBERS[0]) in listed


def _principal(world, name):
    from security_world import principals

    return principals(world.ids)[name]


def test_every_list_and_export_shows_them_masked(world, tokens):
    leaks, masked_seen, calls = [], 0, 0
    for service, rows in TABLE.items():
        for (method, rule), spec in rows.items():
            if method != "GET" or (service, method, rule) in SHOWN_ON_PURPOSE:
                continue
            path = concrete_path(rule, world.ids, spec.objects)
            for caller in sorted(c for c in tokens if spec.answer(c) == "ok"):
                response = world.client(service).get(path, headers=tokens[caller])
                calls += 1
                body = text_of(response)
                masked_seen += any(mask_identity_number(n) in body for n in IDENTITY_NUMBERS)
                if identity_numbers_in(body):
                    leaks.append(f"{service} {path} as {caller}: {identity_numbers_in(body)}")
    assert not leaks, "\n".join(leaks)
    assert calls > 300 and masked_seen > 10, (calls, masked_seen)


def test_no_log_record_and_no_event_holds_one(world, log_capture):
    world.pump()
    events = [json.dumps(e, ensure_ascii=False) for e in world.events]
    for service in world.services.values():  # every outbox row, delivered or not
        with service.engine.connect() as conn:
            events += list(conn.execute(select(outbox.c.payload)).scalars())
    assert len(events) > 50 and len(log_capture.lines) > 100, (len(events), len(log_capture.lines))
    in_events = [(e[:200], identity_numbers_in(e)) for e in events if identity_numbers_in(e)]
    assert not in_events, in_events[:5]
    in_logs = [line[:300] for line in log_capture.lines if identity_numbers_in(line)]
    assert not in_logs, in_logs[:5]
    assert any(r.startswith("quxiang.records") and "identity number of graduate" in r for r in log_capture.lines)


def test_the_capture_sees_records_before_the_apps_redact_them(world, log_capture):
    """The audit above would be blind if the apps' own handler (which masks numbers in place) ran
    first: a probe proves the capture gets the record as logged."""
    logging.getLogger("quxiang.security.probe").debug("probe %s", IDENTITY_NUMBERS[3])
    probe = log_capture.lines.pop()
    assert identity_numbers_in(probe) == [IDENTITY_NUMBERS[3]], probe
