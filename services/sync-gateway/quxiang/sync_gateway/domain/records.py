"""What the employment management system (就业管理系统) keeps per graduate, built from the platform's
events: one record per (考生号, kind), kind being destination (毕业去向), archive (档案) or hukou (户口).

``desired_record`` turns an event into the record ems-sim should hold, with the status the EMS shows
(in_force 有效, terminated 已解约, voided 已作废) and the moment that orders it against the records of
the graduate's other aggregates (see ``domain.ordering``). Pure Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

DESTINATION = "destination"
ARCHIVE = "archive"
HUKOU = "hukou"
KINDS = (DESTINATION, ARCHIVE, HUKOU)
KIND_LABELS = {DESTINATION: "毕业去向", ARCHIVE: "档案", HUKOU: "户口"}

IN_FORCE = "in_force"
TERMINATED = "terminated"
VOIDED = "voided"

AGREEMENT_APPROVED = "signing.agreement.approved"
AGREEMENT_TERMINATED = "signing.agreement.terminated"
AGREEMENT_VOIDED = "signing.agreement.voided"
DESTINATION_APPROVED = "signing.destination.approved"
DESTINATION_VOIDED = "signing.destination.voided"
ARCHIVE_APPROVED = "records.archive.approved"
HUKOU_APPROVED = "records.hukou.approved"

# event type -> (kind, EMS status); an approval starts an aggregate's life in the EMS, the others end it
EVENT_STATUS: Mapping[str, tuple[str, str]] = {
    AGREEMENT_APPROVED: (DESTINATION, IN_FORCE),
    AGREEMENT_TERMINATED: (DESTINATION, TERMINATED),
    AGREEMENT_VOIDED: (DESTINATION, VOIDED),
    DESTINATION_APPROVED: (DESTINATION, IN_FORCE),
    DESTINATION_VOIDED: (DESTINATION, VOIDED),
    ARCHIVE_APPROVED: (ARCHIVE, IN_FORCE),
    HUKOU_APPROVED: (HUKOU, IN_FORCE),
}
EVENT_TYPES = tuple(EVENT_STATUS)

DESTINATION_FIELDS = ("destination_code", "unit_name", "credit_code", "unit_nature", "unit_industry", "unit_region",
                      "position_category", "signing_date", "agreement_number", "further_study_school",
                      "further_study_programme", "study_country", "enlistment_notice_number", "status")
ARCHIVE_FIELDS = ("transfer_type", "receiving_unit", "receiving_department", "address", "postcode", "recipient",
                  "phone", "transfer_number")
HUKOU_FIELDS = ("transfer_type", "address", "receiving_unit", "postcode")
FIELDS = {DESTINATION: DESTINATION_FIELDS, ARCHIVE: ARCHIVE_FIELDS, HUKOU: HUKOU_FIELDS}
# Who the graduate is, sent with every record of every kind: the roster's newest values, not the
# event's (see adapters.ledger.record_graduate). The EMS counts per 届 and per 学历层次.
WHO_FIELDS = ("name", "graduation_year", "education_level")


@dataclass(frozen=True)
class Desired:
    """The record one event asks the EMS to hold."""

    kind: str
    exam_number: str
    graduate_id: str
    name: str
    school_code: str
    department_id: str | None
    aggregate_id: str          # the event's subject
    sequence: int              # the aggregate's version
    anchor_at: datetime        # orders the graduate's aggregates of one kind (domain.ordering)
    occurred_at: datetime
    event_id: str
    event_type: str
    record: dict[str, Any]
    roster_version: int | None = None  # the roster row's version the event's name comes from, if it says
    graduation_year: int | None = None
    education_level: str | None = None

    @property
    def who(self) -> tuple[str, int | None, str | None]:
        return self.name, self.graduation_year, self.education_level


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _agreement(data: Mapping[str, Any], status: str) -> dict[str, Any]:
    return {"destination_code": data["destination_code"], "unit_name": data["unit_name"],
            "credit_code": data["credit_code"], "unit_nature": data["unit_nature"],
            "unit_industry": data["unit_industry"], "unit_region": data["unit_region"],
            "position_category": data["position_category"], "signing_date": _text(data.get("signing_date")),
            "agreement_number": data["agreement_number"], "further_study_school": None,
            "further_study_programme": None, "study_country": None, "enlistment_notice_number": None,
            "status": status}


def _registration(data: Mapping[str, Any], status: str) -> dict[str, Any]:
    return {"destination_code": data["destination_code"], "unit_name": data.get("unit_name"),
            "credit_code": data.get("credit_code"), "unit_nature": data.get("unit_nature"),
            "unit_industry": data.get("unit_industry"), "unit_region": data.get("unit_region"),
            "position_category": data.get("position_category"), "signing_date": None, "agreement_number": None,
            "further_study_school": data.get("study_school"), "further_study_programme": data.get("programme"),
            # 85/86 出国、出境: the country; 46 应征义务兵: the enlistment notice (the contract's EMS data)
            "study_country": data.get("country"), "enlistment_notice_number": data.get("enlistment_notice_number"),
            "status": status}


def _transfer(data: Mapping[str, Any], kind: str) -> dict[str, Any]:
    transfer = dict(data.get("transfer") or {})
    transfer["transfer_number"] = data.get("transfer_number")
    return {key: transfer.get(key) for key in FIELDS[kind]}


def map_record(event_type: str, data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The kind and the EMS record of an event of ``EVENT_TYPES``."""
    kind, status = EVENT_STATUS[event_type]
    if kind != DESTINATION:
        return kind, _transfer(data, kind)
    if event_type.startswith("signing.agreement."):
        return kind, _agreement(data, status)
    return kind, _registration(data, status)


def desired_record(event_type: str, event_id: str, subject: str, sequence: int, occurred_at: datetime,
                   data: Mapping[str, Any]) -> Desired:
    kind, record = map_record(event_type, data)
    approved_at = data.get("approved_at") or data.get("decided_at")
    if isinstance(approved_at, str):
        approved_at = datetime.fromisoformat(approved_at)
    # An approval is anchored at its approval time; an end event at its own time, which is never
    # earlier than the approval it ends (the pair arriving in either order keeps the earlier).
    anchor = approved_at if (record.get("status", IN_FORCE) == IN_FORCE and approved_at) else occurred_at
    return Desired(kind=kind, exam_number=data["exam_number"], graduate_id=data["graduate_id"], name=data["name"],
                   school_code=data["school_code"], department_id=data.get("department_id"), aggregate_id=subject,
                   sequence=sequence, anchor_at=anchor, occurred_at=occurred_at, event_id=event_id,
                   event_type=event_type, record=record, roster_version=data.get("graduate_version"),
                   graduation_year=data.get("graduation_year"), education_level=data.get("education_level"))
