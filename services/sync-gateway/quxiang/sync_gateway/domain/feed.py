"""The school feed's public message: which domain events concern a school and what a school sees of
them (学校数据订阅).

The message is a public contract, versioned on its own (``SCHEMA_VERSION``): the domain events may
grow, the feed changes only by a new version. Payloads are built from an allow-list per category, so
a field added to a domain event reaches schools only when it is listed here — an identity number can
never slip through, and strings are passed through the identity-number mask as a second guard.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from quxiang.common.contracts import destinations, records, signing
from quxiang.common.pii import redact_identity_numbers

SCHEMA_VERSION = 1
ROUTING_KEY_PREFIX = "school."

_WHO = ("graduate_id", "department_id", "education_level", "graduation_year")
_UNIT = ("unit_name", "credit_code", "unit_nature", "unit_industry", "unit_region", "position_category")

# category -> the payload fields a school receives
PAYLOAD_FIELDS: Mapping[str, tuple[str, ...]] = {
    # reason: why the school took the graduate off its roster (graduate.withdrawn); null otherwise
    "graduate": (*_WHO, "student_number", "gender", "major_code", "major_name", "reason"),
    "agreement": ("agreement_id", "agreement_number", "agreement_type", "initiator", "flow", "status", *_WHO,
                  "employer_id", "actor_role", "reason", "destination_code", *_UNIT, "signing_date",
                  "approved_at"),
    "destination": ("registration_id", "status", *_WHO, "destination_code", "placement_bucket", "fields",
                    "reason", "level", "actor_role", *_UNIT, "study_school", "programme", "country",
                    "enlistment_notice_number", "approved_at", "voided_at"),
    # approval_stands: an earlier approval stands while a change is in review (or after it was refused)
    "archive": ("registration_id", "module", "status", *_WHO, "transfer", "transfer_number", "level", "reason",
                "submitted_at", "decided_at", "approval_stands"),
}
PAYLOAD_FIELDS = {**PAYLOAD_FIELDS, "hukou": PAYLOAD_FIELDS["archive"]}
TRANSFER_FIELDS = ("transfer_type", "receiving_unit", "receiving_department", "address", "postcode", "recipient",
                   "phone")

CATEGORY_LABELS = {"graduate": "生源", "agreement": "签约", "destination": "去向登记", "archive": "档案",
                   "hukou": "户口"}

_AGREEMENT_TYPES = (
    signing.AGREEMENT_INVITED, signing.AGREEMENT_ACCEPTED, signing.AGREEMENT_DECLINED, signing.AGREEMENT_EXPIRED,
    signing.AGREEMENT_WITHDRAWN, signing.AGREEMENT_DEPARTMENT_APPROVED, signing.AGREEMENT_REJECTED,
    signing.AGREEMENT_APPROVED, signing.AGREEMENT_APPLIED, signing.AGREEMENT_APPLICATION_ADVANCED,
    signing.AGREEMENT_APPLICATION_APPROVED, signing.AGREEMENT_APPLICATION_REJECTED, signing.AGREEMENT_REGISTERED,
    signing.AGREEMENT_SUBMITTED, signing.AGREEMENT_VOID_REQUESTED, signing.AGREEMENT_VOID_REJECTED,
    signing.AGREEMENT_VOIDED, signing.AGREEMENT_TERMINATED)
_DESTINATION_TYPES = (
    destinations.DESTINATION_SUBMITTED, destinations.DESTINATION_DEPARTMENT_APPROVED,
    destinations.DESTINATION_APPROVED, destinations.DESTINATION_REJECTED, destinations.DESTINATION_VOID_REQUESTED,
    destinations.DESTINATION_VOID_REJECTED, destinations.DESTINATION_VOIDED)
_RECORDS_TYPES = (records.GRADUATE_REGISTERED, records.GRADUATE_UPDATED, records.GRADUATE_WITHDRAWN,
                  *records.REGISTRATION_EVENTS.values())

# signing.termination.* is not here: it carries neither 考生号 nor name; its outcome reaches schools as
# agreement.terminated.
FEED_EVENT_TYPES: tuple[str, ...] = (*_RECORDS_TYPES, *_AGREEMENT_TYPES, *_DESTINATION_TYPES)


def change_of(event_type: str) -> str:
    """``signing.agreement.approved`` -> ``agreement.approved``: the public name of the change."""
    return event_type.split(".", 1)[1]


def category_of(event_type: str) -> str:
    return event_type.split(".")[1]


def routing_key(school_code: str) -> str:
    return f"{ROUTING_KEY_PREFIX}{school_code}"


def queue_name(prefix: str, school_code: str) -> str:
    return f"{prefix}.{school_code}"


@dataclass(frozen=True)
class FeedEntry:
    """What the feed consumer records for one domain event, before it gets its per-school sequence."""

    event_id: str
    event_type: str
    school_code: str
    exam_number: str
    name: str
    subject: str
    subject_version: int
    occurred_at: datetime
    payload: dict[str, Any]

    @property
    def change(self) -> str:
        return change_of(self.event_type)

    def message(self, sequence: int) -> dict[str, Any]:
        """The public message (schema version ``SCHEMA_VERSION``)."""
        return message(self.event_id, sequence, self.school_code, self.exam_number, self.name, self.event_type,
                       self.subject, self.subject_version, self.occurred_at.isoformat(), self.payload)


def message(event_id: str, sequence: int, school_code: str, exam_number: str, name: str, event_type: str,
            subject: str, subject_version: int, occurred_at: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "event_id": event_id, "sequence": sequence,
            "school_code": school_code, "exam_number": exam_number, "name": name,
            "change": change_of(event_type), "category": category_of(event_type), "source_type": event_type,
            "subject": subject, "subject_version": subject_version, "occurred_at": occurred_at,
            "payload": dict(payload)}


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact_identity_numbers(value)
    if isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items()}
    return value


def payload_of(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    category = category_of(event_type)
    out = {name: _clean(data.get(name)) for name in PAYLOAD_FIELDS[category]}
    if "transfer" in out and isinstance(out["transfer"], Mapping):
        out["transfer"] = {name: out["transfer"].get(name) for name in TRANSFER_FIELDS}
    return out


def entry_of(event_id: str, event_type: str, subject: str, sequence: int, occurred_at: datetime,
             data: Mapping[str, Any]) -> FeedEntry:
    if event_type not in FEED_EVENT_TYPES:
        raise ValueError(f"{event_type} is not in the school feed")
    return FeedEntry(event_id=event_id, event_type=event_type, school_code=data["school_code"],
                     exam_number=data["exam_number"], name=data["name"], subject=subject,
                     subject_version=sequence, occurred_at=occurred_at, payload=payload_of(event_type, data))
