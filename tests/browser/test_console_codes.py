"""The console's copy of the code tables (console/data/codes.json) matches the platform's.

The console is static files with no API for the code tables, so it ships a JSON copy made from
``quxiang.common.reference`` and signing's destination forms. This test fails when they drift;
``QX_WRITE_CODES=1 .venv/bin/python -m pytest tests/browser/test_console_codes.py`` rewrites it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from quxiang.common import reference
from quxiang.records.domain import registration
from quxiang.signing.domain import destination, online, termination
from quxiang.signing.domain.destination import FIELD_LABELS, FORMS

CODES = Path(__file__).resolve().parents[2] / "console" / "data" / "codes.json"


def console_codes() -> dict[str, Any]:
    def pairs(table: Any) -> list[list[str]]:
        return [[row.code, row.name_zh] for row in table]

    return {
        "education_levels": pairs(reference.education_levels()),
        "employer_natures": pairs(reference.employer_natures()),
        "industries": pairs(reference.industries()),
        "position_categories": pairs(reference.position_categories()),
        "provinces": pairs(reference.provinces()),
        "destination_categories": [
            {"code": c.code, "name": c.name_zh, "parent": c.parent_code, "requires_agreement": c.requires_agreement}
            for c in reference.destination_categories()],
        "transfer_types": {kind: [{"code": t.code, "name": t.name_zh, "address_required": t.address_required}
                                  for t in reference.transfer_types(kind)]
                           for kind in ("archive", "hukou")},
        "destination_forms": {code: {"fields": list(form.fields), "proof": form.proof}
                              for code, form in FORMS.items()},
        "destination_field_labels": dict(FIELD_LABELS),
        # the status filters of the lists (图6, 图7)
        "statuses": {
            "agreement": [[s.value, online.STATUS_LABELS[s]] for s in online.Status],
            "termination": [[s.value, termination.STATUS_LABELS[s]] for s in termination.Status],
            "destination": [[s.value, destination.STATUS_LABELS[s]] for s in destination.Status],
            "registration": [[s.value, registration.STATUS_LABELS[s]] for s in registration.Status],
        },
        # the steps of the review histories
        "actions": {
            "agreement": {a.value: label for a, label in online.ACTION_LABELS.items()},
            "termination": {a.value: label for a, label in termination.ACTION_LABELS.items()},
            "destination": {a.value: label for a, label in destination.ACTION_LABELS.items()},
            "registration": {a.value: label for a, label in registration.ACTION_LABELS.items()},
        },
    }


def render() -> str:
    return json.dumps(console_codes(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def test_the_console_code_tables_match_the_platform():
    if os.environ.get("QX_WRITE_CODES") == "1":
        CODES.write_text(render(), encoding="utf-8")
    assert CODES.read_text(encoding="utf-8") == render(), (
        "console/data/codes.json is out of date: rerun with QX_WRITE_CODES=1")
