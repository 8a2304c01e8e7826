"""Faults for tests and benchmarks: latency, 503s, 429s with Retry-After, down; and their reset."""

import time

import pytest

from .bodies import archive

NO_FAULTS = {"latency_ms": 0, "error_rate": 0.0, "throttle_rate": 0.0, "retry_after_s": 1, "down": False}


def test_settings_are_read_replaced_and_reset(client):
    assert client.get("/admin/faults").get_json() == NO_FAULTS
    answer = client.put("/admin/faults", json={"latency_ms": 20, "throttle_rate": 0.25, "retry_after_s": 3})
    assert answer.status_code == 200
    assert client.get("/admin/faults").get_json() == {**NO_FAULTS, "latency_ms": 20, "throttle_rate": 0.25,
                                                      "retry_after_s": 3}
    client.put("/admin/faults", json={"down": True})
    assert client.get("/admin/faults").get_json() == {**NO_FAULTS, "down": True}  # PUT replaces
    assert client.delete("/admin/faults").get_json() == NO_FAULTS
    assert client.get("/admin/faults").get_json() == NO_FAULTS


@pytest.mark.parametrize(("body", "field"), [({"latency_ms": -1}, "latency_ms"), ({"error_rate": 1.5}, "error_rate"),
                                             ({"throttle_rate": -0.1}, "throttle_rate"),
                                             ({"retry_after_s": "soon"}, "retry_after_s"), ({"down": "maybe"}, "down"),
                                             ({"chaos": True}, "chaos")])
def test_invalid_settings_are_422(client, body, field):
    answer = client.put("/admin/faults", json=body)
    assert answer.status_code == 422 and field in answer.get_json()["errors"]
    assert client.get("/admin/faults").get_json() == NO_FAULTS


def test_latency(client, ems):
    client.put("/admin/faults", json={"latency_ms": 150})
    started = time.monotonic()
    assert ems.put("44010100000031", "archive", archive()).status_code == 200
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    assert client.get("/records", query_string={"kind": "archive"}).status_code == 200
    assert time.monotonic() - started >= 0.15
    assert ems.stats()["faults"]["latency"] == 2


def test_error_rate_one_answers_503_and_writes_nothing(client, ems):
    client.put("/admin/faults", json={"error_rate": 1})
    for _ in range(3):
        answer = ems.put("44010100000032", "archive", archive(), key="k-32")
        assert answer.status_code == 503 and answer.get_json()["code"] == "service_unavailable"
    assert client.get("/graduates/44010100000032").status_code == 503
    assert client.get("/healthz").status_code == 200
    stats = ems.stats()
    assert stats["faults"]["error"] == 4 and ems.writes() == 0 and stats["replays"] == 0
    client.delete("/admin/faults")
    assert ems.put("44010100000032", "archive", archive(), key="k-32").get_json()["write"] == "created"


def test_throttle_rate_one_answers_429_with_retry_after(client, ems):
    client.put("/admin/faults", json={"throttle_rate": 1, "retry_after_s": 7, "error_rate": 1})
    answer = ems.put("44010100000033", "archive", archive())
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7"
    assert answer.get_json()["code"] == "too_many_requests"
    assert client.get("/records", query_string={"kind": "archive"}).status_code == 429
    assert ems.stats()["faults"]["throttle"] == 2 and ems.writes() == 0


def test_rates_of_zero_never_fail(client, ems):
    client.put("/admin/faults", json={"error_rate": 0, "throttle_rate": 0})
    assert all(ems.put(f"4401010000{i:04d}", "archive", archive()).status_code == 200 for i in range(20))


def test_rates_between_zero_and_one_fail_some(client, ems):
    client.put("/admin/faults", json={"error_rate": 0.5})
    statuses = [client.get("/records", query_string={"kind": "archive"}).status_code for _ in range(200)]
    assert 40 < statuses.count(503) < 160 and statuses.count(200) + statuses.count(503) == 200


def test_down_answers_503_except_admin_and_probes(client, ems):
    ems.put("44010100000034", "archive", archive())
    client.put("/admin/faults", json={"down": True, "latency_ms": 10_000})
    started = time.monotonic()
    for answer in (ems.put("44010100000034", "archive", archive()), client.get("/graduates/44010100000034"),
                   client.get("/records", query_string={"kind": "archive"}), client.get("/openapi.json")):
        assert answer.status_code == 503 and answer.get_json()["code"] == "service_unavailable"
    assert time.monotonic() - started < 10  # down answers at once
    assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert client.get("/admin/faults").get_json()["down"] is True
    assert client.get("/admin/stats").get_json()["faults"]["down"] == 4
    tampered = client.post("/admin/tamper", json={"exam_number": "44010100000034", "kind": "archive",
                                                  "fields": {"postcode": "000000"}})
    assert tampered.status_code == 200
    assert client.delete("/admin/faults").status_code == 200
    assert client.get("/graduates/44010100000034").get_json()["archive"]["postcode"] == "000000"


def test_stats_reset(client, ems):
    ems.put("44010100000035", "archive", archive())
    assert ems.writes() == 1
    assert client.delete("/admin/stats").get_json()["writes"]["archive"] == {"created": 0, "updated": 0,
                                                                              "unchanged": 0}
    assert ems.writes() == 0
