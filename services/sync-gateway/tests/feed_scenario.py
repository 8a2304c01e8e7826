"""A scripted scenario for the school feed: two schools, their graduates' roster rows, invitations,
agreement states, destination, archive and hukou registrations — the events records and signing
publish — and helpers to record them through the feed consumer's handlers."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from quxiang.common.contracts import destinations, records, signing
from quxiang.common.events import Event, catalogue
from quxiang.sync_gateway.entrypoints import consumers

SCHOOL_A = "10558"
SCHOOL_B = "10561"
IDENTITY_NUMBER = "440106200001011234"


def _who(exam_number: str, school: str, name: str) -> dict:
    return {"graduate_id": f"g-{exam_number}", "exam_number": exam_number, "name": name, "school_code": school,
            "department_id": None, "education_level": "31", "graduation_year": 2026}


def _event(type_: str, subject: str, sequence: int, data: dict) -> Event:
    return catalogue.new_event(type_, subject=subject, sequence=sequence, data=data, producer="test")


def roster(exam_number: str, school: str, name: str, updated: bool = False) -> Event:
    who = _who(exam_number, school, name)
    data = {**who, "student_number": "2022" + exam_number[-4:], "gender": "F", "major_code": "080901",
            "major_name": "计算机科学与技术", "identity_number_masked": "440***********1234"}
    return _event(records.GRADUATE_UPDATED if updated else records.GRADUATE_REGISTERED, who["graduate_id"],
                  2 if updated else 1, data)


def agreement(type_: str, agreement_id: str, sequence: int, exam_number: str, school: str, name: str,
              status: str, reason: str | None = None) -> Event:
    return _event(type_, agreement_id, sequence, {
        "agreement_id": agreement_id, "agreement_number": f"2026{school}{agreement_id[:6]}",
        "agreement_type": "three_party", "initiator": "employer", "flow": "online", "status": status,
        **_who(exam_number, school, name), "reason": reason, "destination_code": "10",
        "unit_name": "广州示例信息科技有限公司", "credit_code": "91440106MA59DEMX1X", "unit_nature": "39",
        "unit_industry": "I65", "unit_region": "440106", "position_category": "10", "signing_date": "2026-04-20",
        "approved_at": "2026-05-02T08:00:00+00:00" if status == "approved" else None})


def destination(type_: str, registration_id: str, sequence: int, exam_number: str, school: str, name: str,
                status: str) -> Event:
    return _event(type_, registration_id, sequence, {
        "registration_id": registration_id, **_who(exam_number, school, name), "status": status,
        "destination_code": "85", "fields": {"升学院校": "中山大学"}, "study_school": "中山大学",
        "programme": "计算机科学与技术"})


def registration(module: str, outcome: str, registration_id: str, sequence: int, exam_number: str, school: str,
                 name: str, reason: str | None = None) -> Event:
    return _event(records.REGISTRATION_EVENTS[(module, outcome)], registration_id, sequence, {
        "registration_id": registration_id, "module": module, **_who(exam_number, school, name),
        "status": outcome, "transfer": {"transfer_type": "1", "receiving_unit": "广州市人才服务中心",
                                        "address": "广州市天河区中山大道西55号", "postcode": "510631"},
        "reason": reason, "reviewer_id": "u-reviewer"})


def scenario() -> list[Event]:
    """Events of both schools, interleaved, in the order they happen."""
    ag1, ag2, dest, arc, huk = (str(uuid.uuid4()) for _ in range(5))
    a1, a2, b1 = ("44010600001", "A-张三"), ("44010600002", "A-李四"), ("44010600003", "B-王五")
    return [
        roster(a1[0], SCHOOL_A, a1[1]),
        roster(b1[0], SCHOOL_B, b1[1]),
        roster(a2[0], SCHOOL_A, a2[1]),
        agreement(signing.AGREEMENT_INVITED, ag1, 1, a1[0], SCHOOL_A, a1[1], "invited"),
        agreement(signing.AGREEMENT_INVITED, ag2, 1, b1[0], SCHOOL_B, b1[1], "invited"),
        agreement(signing.AGREEMENT_ACCEPTED, ag1, 2, a1[0], SCHOOL_A, a1[1], "school_review"),
        destination(destinations.DESTINATION_SUBMITTED, dest, 1, a2[0], SCHOOL_A, a2[1], "school_review"),
        agreement(signing.AGREEMENT_DECLINED, ag2, 2, b1[0], SCHOOL_B, b1[1], "declined",
                  reason=f"证件号 {IDENTITY_NUMBER} 有误"),
        agreement(signing.AGREEMENT_APPROVED, ag1, 3, a1[0], SCHOOL_A, a1[1], "approved"),
        destination(destinations.DESTINATION_APPROVED, dest, 2, a2[0], SCHOOL_A, a2[1], "approved"),
        registration("archive", "submitted", arc, 1, a1[0], SCHOOL_A, a1[1]),
        registration("archive", "approved", arc, 2, a1[0], SCHOOL_A, a1[1]),
        registration("hukou", "submitted", huk, 1, b1[0], SCHOOL_B, b1[1]),
        registration("hukou", "rejected", huk, 2, b1[0], SCHOOL_B, b1[1], reason="地址不完整"),
        roster(a2[0], SCHOOL_A, a2[1], updated=True),
        agreement(signing.AGREEMENT_TERMINATED, ag1, 4, a1[0], SCHOOL_A, a1[1], "terminated"),
    ]


def record(gateway, events: Iterable[Event]) -> None:
    """Each event through the feed consumer's handler in its own transaction, as the runtime does."""
    for event in events:
        with gateway.unit_of_work() as uow:
            consumers.FEED_HANDLERS[event.type](event, uow)
            uow.commit()
