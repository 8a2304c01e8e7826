"""POST /batch: each item is the single PUT with its own key, answered on its own."""

import random
import threading
import time

import pytest

from .bodies import archive, destination, hukou


def item(exam_number, kind="destination", key=None, record=None):
    bodies = {"destination": destination, "archive": archive, "hukou": hukou}
    return {"kind": kind, "exam_number": exam_number, "idempotency_key": key or f"k-{exam_number}-{kind}",
            "record": record if record is not None else bodies[kind]()}


def batch(client, *items):
    answer = client.post("/batch", json={"items": list(items)})
    assert answer.status_code == 200, answer.get_json()
    return [(entry["status"], entry["body"]) for entry in answer.get_json()["items"]]


def test_a_batch_writes_each_item_like_the_single_put(client, ems):
    answers = batch(client, item("44010100000101"), item("44010100000101", "archive"), item("44010100000102", "hukou"))
    assert [status for status, _ in answers] == [200, 200, 200]
    assert [body["write"] for _, body in answers] == ["created", "created", "created"]
    assert answers[0][1]["record"]["source"] == "platform"
    single = ems.put("44010100000103", "destination", destination(), key="single").get_json()
    assert set(single) == set(answers[0][1]) and single["record"].keys() == answers[0][1]["record"].keys()
    assert client.get("/graduates/44010100000101").get_json()["archive"]["postcode"] == "510000"
    assert ems.writes() == 4


def test_replayed_items_answer_from_memory_and_write_nothing(client, ems):
    first = batch(client, item("44010100000111"), item("44010100000112"))
    again = batch(client, item("44010100000111"), item("44010100000112"))
    assert again == first
    stats = ems.stats()
    assert stats["writes"]["destination"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert stats["replays"] == 2


def test_a_key_is_shared_with_the_single_put(client, ems):
    single = ems.put("44010100000113", "destination", destination(), key="shared").get_json()
    assert batch(client, item("44010100000113", key="shared")) == [(200, single)]
    other = batch(client, item("44010100000114", key="shared"))
    assert other[0][0] == 422 and other[0][1]["code"] == "idempotency_key_reused"
    assert ems.writes() == 1


def test_mixed_new_and_replayed_items(client, ems):
    batch(client, item("44010100000121"))
    answers = batch(client, item("44010100000121"),
                    item("44010100000121", key="newer", record=destination(status="terminated", platform_version=2)),
                    item("44010100000122"))
    assert [body["write"] for _, body in answers] == ["created", "updated", "created"]  # the replay answers "created"
    assert client.get("/graduates/44010100000121").get_json()["destination"]["status"] == "terminated"
    stats = ems.stats()
    assert stats["writes"]["destination"] == {"created": 2, "updated": 1, "unchanged": 0} and stats["replays"] == 1


def test_a_failing_item_does_not_break_the_others(client, ems):
    answers = batch(client,
                    item("44010100000131"),
                    item("44010100000132", record=destination(status=None)),           # 422: required
                    item("44010100000133", record={**destination(), "source": "ems"}),  # 422: unknown field
                    item("44010100000134", kind="nonsense", record=destination()),
                    {"kind": "destination", "exam_number": "44010100000135", "record": destination()},  # no key
                    item("44010100000131", key="k-44010100000131-destination", record=destination(unit_name="X")),
                    item("44010100000136"),
                    item("44010100000137", record={**destination(), "platform_version": 2**31}))  # over the column
    assert [status for status, _ in answers] == [200, 422, 422, 422, 400, 422, 200, 422]
    assert "platform_version" in answers[7][1]["errors"]
    assert answers[1][1]["code"] == "validation_error" and "status" in answers[1][1]["errors"]
    assert answers[4][1]["code"] == "idempotency_key_required"
    assert answers[5][1]["code"] == "idempotency_key_reused"
    assert client.get("/graduates/44010100000132").status_code == 404
    assert client.get("/graduates/44010100000131").get_json()["destination"]["unit_name"] == destination()["unit_name"]
    assert ems.writes() == 2
    # a refused item left its key unused: sent again correctly, it writes
    assert batch(client, item("44010100000132"))[0][1]["write"] == "created"


@pytest.mark.parametrize("body", [{}, {"items": []}, {"items": "x"}, {"items": [item("4401") for _ in range(501)]}])
def test_a_malformed_batch_is_400(client, body):
    answer = client.post("/batch", json=body)
    assert answer.status_code == 400 and answer.get_json()["code"] == "invalid_batch"


def test_the_batch_is_faulted_like_the_writes(client, ems):
    client.put("/admin/faults", json={"down": True})
    answer = client.post("/batch", json={"items": [item("44010100000141")]})
    assert answer.status_code == 503 and answer.get_json()["fault"] == "down"
    client.delete("/admin/faults")
    assert ems.writes() == 0


def test_a_key_twice_in_one_batch_is_one_write(client, ems):
    answers = batch(client, item("44010100000151"), item("44010100000151"),
                    item("44010100000152", key="k-44010100000151-destination"))
    assert answers[1] == answers[0] and answers[2][0] == 422
    assert ems.stats()["writes"]["destination"]["created"] == 1 and ems.stats()["replays"] == 1


def test_concurrent_batches_with_overlapping_keys_write_each_key_once(app, ems):
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    answers = []
    exam_numbers = [f"440101000002{i:02d}" for i in range(20)]

    def send(index):
        client = app.test_client()
        # each batch: the shared items in a rotated order, and one item of its own
        shared = exam_numbers[index:] + exam_numbers[:index]
        items = [item(n) for n in shared] + [item(f"44010100000{300 + index}", "archive")]
        barrier.wait()
        for _ in range(10):
            answer = client.post("/batch", json={"items": items})
            if answer.status_code != 503:
                break
            # a deadlock with another batch: nothing of it was written, it is sent again
            assert answer.get_json()["code"] == "batch_not_written"
            time.sleep(random.uniform(0.01, 0.1))
        answers.append((answer.status_code, answer.get_json()))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [200] * threads_count
    written = {}
    for _, body in answers:
        for entry in body["items"]:
            assert entry["status"] == 200
            written.setdefault(entry["body"]["exam_number"] + entry["body"]["kind"], []).append(entry["body"])
    for bodies in written.values():
        assert all(body == bodies[0] for body in bodies)  # one write, the same answer to every key holder
    stats = ems.stats()
    assert stats["writes"]["destination"]["created"] == len(exam_numbers)
    assert sum(stats["writes"]["destination"].values()) == len(exam_numbers)
    assert stats["writes"]["archive"]["created"] == threads_count
    assert sum(len(b) for b in written.values()) == stats["replays"] + len(exam_numbers) + threads_count


def test_one_slot_twice_is_written_in_the_order_sent_and_answers_keep_their_places(client):
    answers = batch(client, item("44010100000162", key="a"),
                    item("44010100000162", key="b", record=destination(status="terminated", platform_version=2)),
                    item("44010100000161", "hukou"))
    assert [(body["exam_number"], body["kind"], body["write"]) for _, body in answers] == [
        ("44010100000162", "destination", "created"), ("44010100000162", "destination", "updated"),
        ("44010100000161", "hukou", "created")]
    assert client.get("/graduates/44010100000162").get_json()["destination"]["status"] == "terminated"
