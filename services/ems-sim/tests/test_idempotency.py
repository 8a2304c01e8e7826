"""The same key gives the same answer and never a second write."""

import threading

from .bodies import archive, destination


def test_the_same_key_twice_is_one_write_and_the_same_answer(ems, client):
    first = ems.put("44010100000011", "destination", destination(), key="event-1")
    second = ems.put("44010100000011", "destination", destination(), key="event-1")
    assert first.status_code == second.status_code == 200
    assert second.get_json() == first.get_json() and first.get_json()["write"] == "created"
    stats = ems.stats()
    assert stats["writes"]["destination"] == {"created": 1, "updated": 0, "unchanged": 0}
    assert stats["replays"] == 1


def test_a_replay_answers_the_first_result_even_after_later_writes(ems):
    first = ems.put("44010100000012", "destination", destination(), key="event-approved").get_json()
    later = ems.put("44010100000012", "destination", destination(status="terminated", platform_version=2),
                    key="event-terminated").get_json()
    assert later["write"] == "updated"
    replay = ems.put("44010100000012", "destination", destination(), key="event-approved").get_json()
    assert replay == first
    assert ems.put("44010100000012", "destination", destination(), key="other").get_json()["record"]["status"] \
        == "in_force"  # a new key is a new write
    assert ems.writes() == 3


def test_a_key_reused_with_another_body_or_record_is_422(ems, client):
    ems.put("44010100000013", "archive", archive(), key="k-13")
    other_body = ems.put("44010100000013", "archive", archive(postcode="510001"), key="k-13")
    assert other_body.status_code == 422 and other_body.get_json()["code"] == "idempotency_key_reused"
    other_record = ems.put("44010100000014", "archive", archive(), key="k-13")
    assert other_record.status_code == 422 and other_record.get_json()["code"] == "idempotency_key_reused"
    other_method = ems.patch("44010100000013", "archive", {"postcode": "510001"}, key="k-13")
    assert other_method.status_code == 422
    assert client.get("/graduates/44010100000013").get_json()["archive"]["postcode"] == "510000"
    assert client.get("/graduates/44010100000014").status_code == 404
    assert ems.writes() == 1 and ems.stats()["edits"]["archive"]["updated"] == 0


def test_a_refused_write_leaves_the_key_unused(ems):
    missing = ems.patch("44010100000015", "archive", {"postcode": "510001"}, key="k-15")
    assert missing.status_code == 404
    ems.put("44010100000015", "archive", archive(), key="k-15-put")
    assert ems.patch("44010100000015", "archive", {"postcode": "510001"}, key="k-15").get_json()["write"] == "updated"


def test_edits_and_deletions_replay_too(ems):
    ems.put("44010100000016", "hukou", {"transfer_type": "1"})
    edit = ems.patch("44010100000016", "hukou", {"address": "新地址"}, key="edit")
    assert ems.patch("44010100000016", "hukou", {"address": "新地址"}, key="edit").get_json() == edit.get_json()
    gone = ems.delete("44010100000016", "hukou", key="gone")
    again = ems.delete("44010100000016", "hukou", key="gone")
    assert gone.status_code == again.status_code == 200 and again.get_json() == gone.get_json()
    assert gone.get_json() == {"exam_number": "44010100000016", "kind": "hukou", "record": None, "write": "deleted"}
    assert ems.stats()["edits"]["hukou"] == {"created": 0, "updated": 1, "unchanged": 0, "deleted": 1}
    assert ems.stats()["replays"] == 2


def test_concurrent_requests_with_one_key_write_once(app, ems):
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    answers = []

    def send():
        client = app.test_client()
        barrier.wait()
        answer = client.put("/graduates/44010100000017/destination", json=destination(),
                            headers={"Idempotency-Key": "same-event"})
        answers.append((answer.status_code, answer.get_json()))

    threads = [threading.Thread(target=send) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == threads_count
    assert {status for status, _ in answers} == {200}
    assert all(body == answers[0][1] for _, body in answers) and answers[0][1]["write"] == "created"
    stats = ems.stats()
    assert stats["writes"]["destination"] == {"created": 1, "updated": 0, "unchanged": 0}
    assert stats["replays"] == threads_count - 1


def test_concurrent_requests_with_different_keys_for_one_record(app, ems):
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    answers = []

    def send(index):
        client = app.test_client()
        barrier.wait()
        answer = client.put("/graduates/44010100000018/archive", json=archive(),
                            headers={"Idempotency-Key": f"event-{index}"})
        answers.append(answer.status_code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * threads_count
    assert ems.stats()["writes"]["archive"] == {"created": 1, "updated": 0, "unchanged": threads_count - 1}
