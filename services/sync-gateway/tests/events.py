"""Builders of the events signing, records and accounts publish, as sync-gateway receives them."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from quxiang.common.contracts import accounts, destinations, records, signing
from quxiang.common.events import catalogue

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def new_id() -> str:
    return str(uuid.uuid4())


def _event(type_, subject, data, sequence, occurred_at=None):
    event = catalogue.new_event(type_, subject=subject, sequence=sequence, data=data, producer="test")
    return dataclasses.replace(event, occurred_at=occurred_at) if occurred_at is not None else event


def _who(exam_number, school):
    return {"graduate_id": f"g-{exam_number}", "exam_number": exam_number, "name": "李同学", "school_code": school,
            "department_id": None, "education_level": "31", "graduation_year": 2026}


def agreement(type_, agreement_id, sequence, exam_number, school="10558", occurred_at=None,
              unit="广州示例信息科技有限公司", approved_at=None):
    status = {signing.AGREEMENT_APPROVED: "approved", signing.AGREEMENT_TERMINATED: "terminated",
              signing.AGREEMENT_VOIDED: "voided"}[type_]
    occurred_at = occurred_at or datetime.now(UTC)
    if type_ == signing.AGREEMENT_APPROVED and approved_at is None:
        approved_at = occurred_at
    return _event(type_, agreement_id, {
        "agreement_id": agreement_id, "agreement_number": f"2026{school}31{agreement_id[:6]}",
        "agreement_type": "three_party", "initiator": "employer", "flow": "online", "status": status,
        **_who(exam_number, school), "destination_code": "10", "unit_name": unit,
        "credit_code": "91440106MA59DEMX1X", "unit_nature": "39", "unit_industry": "I65", "unit_region": "440106",
        "position_category": "10", "signing_date": "2026-04-20",
        "approved_at": approved_at.isoformat() if approved_at else None}, sequence, occurred_at)


def destination(type_, registration_id, sequence, exam_number, school="10558", occurred_at=None, code="85"):
    status = "approved" if type_ == destinations.DESTINATION_APPROVED else "voided"
    occurred_at = occurred_at or datetime.now(UTC)
    return _event(type_, registration_id, {
        "registration_id": registration_id, **_who(exam_number, school), "status": status, "destination_code": code,
        "fields": {}, "study_school": "中山大学", "programme": "计算机科学与技术",
        "approved_at": occurred_at.isoformat()}, sequence, occurred_at)


def registration(module, registration_id, sequence, exam_number, school="10558", occurred_at=None,
                 address="广州市天河区中山大道西55号"):
    transfer = {"transfer_type": "1", "receiving_unit": "广州市人才服务中心", "address": address, "postcode": "510631"}
    if module == "archive":
        transfer.update(receiving_department="档案室", recipient="王老师", phone="020-12345678")
    return _event(records.REGISTRATION_EVENTS[(module, "approved")], registration_id, {
        "registration_id": registration_id, "module": module, **_who(exam_number, school), "status": "approved",
        "transfer": transfer, "transfer_number": "2026105580000001" if module == "archive" else None},
        sequence, occurred_at)


def roster(exam_number, name, sequence, school="10558", department_id=None, year=2026, level="31"):
    """records' roster event of the graduate ``_who`` names: registered at version 1, updated after."""
    type_ = records.GRADUATE_REGISTERED if sequence == 1 else records.GRADUATE_UPDATED
    graduate_id = f"g-{exam_number}"
    return _event(type_, graduate_id, {
        "graduate_id": graduate_id, "exam_number": exam_number, "student_number": None, "name": name,
        "school_code": school, "department_id": department_id, "education_level": level, "graduation_year": year,
        "gender": "M", "major_code": "080901", "major_name": "计算机科学与技术",
        "identity_number_masked": "440106********0012"}, sequence)


def school_created(code, name, province="44"):
    return _event(accounts.SCHOOL_CREATED, code, {"school_code": code, "name": name, "province": province}, 1)


A = signing
D = destinations
