"""Events published by signing that other services depend on."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from quxiang.common.events import catalogue

SCHOOL_SETTINGS_UPDATED = "signing.school_settings.updated"


class SchoolSettingsUpdated(Schema):
    school_code = fields.String(required=True)
    module = fields.String(required=True, validate=validate.Equal("employment"))
    completed = fields.Boolean(required=True)


if SCHOOL_SETTINGS_UPDATED not in catalogue:
    catalogue.register(SCHOOL_SETTINGS_UPDATED, SchoolSettingsUpdated, version=1,
                       description="A school's signing settings (网签设置) changed.")
