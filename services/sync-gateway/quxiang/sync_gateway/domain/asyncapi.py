"""The AsyncAPI 3.0 document of the school feed, built from the same allow-lists that build the
messages (domain/feed.py), so the document cannot describe fields the feed does not send.

Served at ``/api/sync-gateway/feed/asyncapi.json``; ``qx-sync feed-asyncapi`` prints it, and
docs/feed-asyncapi.json is that output (a test keeps them equal).
"""

from __future__ import annotations

from typing import Any

from quxiang.sync_gateway.domain.feed import (
    CATEGORY_LABELS,
    FEED_EVENT_TYPES,
    PAYLOAD_FIELDS,
    SCHEMA_VERSION,
    TRANSFER_FIELDS,
    category_of,
    change_of,
)
from quxiang.sync_gateway.domain.signatures import (
    DELIVERY_HEADER,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
)

_NULLABLE_STRING = {"type": ["string", "null"]}
_SPECIAL: dict[str, dict[str, Any]] = {
    "graduation_year": {"type": ["integer", "null"]},
    "fields": {"type": ["object", "null"], "additionalProperties": {"type": ["string", "null"]},
               "description": "The destination category's own fields (毕业去向类别的字段)"},
    "transfer": {"oneOf": [{"$ref": "#/components/schemas/Transfer"}, {"type": "null"}]},
    "signing_date": {"type": ["string", "null"], "format": "date"},
    "approval_stands": {"type": ["boolean", "null"],
                        "description": "An earlier approval stands while this change is in review, or after it "
                                       "was refused (null: sent before the platform said so)"},
}
for _name in ("approved_at", "voided_at", "submitted_at", "decided_at"):
    _SPECIAL[_name] = {"type": ["string", "null"], "format": "date-time"}

_PAYLOAD_SCHEMAS = {"graduate": "GraduatePayload", "agreement": "AgreementPayload",
                    "destination": "DestinationPayload", "archive": "RegistrationPayload",
                    "hukou": "RegistrationPayload"}


def _payload_schema(category: str) -> dict[str, Any]:
    names = PAYLOAD_FIELDS[category]
    return {"type": "object", "additionalProperties": False, "required": list(names),
            "properties": {n: dict(_SPECIAL.get(n, _NULLABLE_STRING)) for n in names}}


def _variant(category: str) -> dict[str, Any]:
    changes = sorted(change_of(t) for t in FEED_EVENT_TYPES if category_of(t) == category)
    return {"title": f"{category} ({CATEGORY_LABELS[category]})",
            "properties": {"category": {"const": category}, "change": {"enum": changes},
                           "payload": {"$ref": f"#/components/schemas/{_PAYLOAD_SCHEMAS[category]}"}}}


def feed_event_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["schema_version", "event_id", "sequence", "school_code", "exam_number", "name", "change",
                     "category", "source_type", "subject", "subject_version", "occurred_at", "payload"],
        "properties": {
            "schema_version": {"const": SCHEMA_VERSION, "description": "The message schema's version"},
            "event_id": {"type": "string", "format": "uuid",
                         "description": "The source domain event's id: deduplicate by it"},
            "sequence": {"type": "integer", "minimum": 1,
                         "description": "The school's feed cursor: +1 per message of the school"},
            "school_code": {"type": "string", "description": "学校代码"},
            "exam_number": {"type": "string", "description": "考生号"},
            "name": {"type": "string", "description": "姓名"},
            "change": {"type": "string", "description": "<category>.<action>, e.g. agreement.approved"},
            "category": {"enum": sorted(CATEGORY_LABELS)},
            "source_type": {"type": "string", "description": "The platform's domain event type"},
            "subject": {"type": "string", "description": "The aggregate (agreement, registration, graduate) id"},
            "subject_version": {"type": "integer", "minimum": 1,
                                "description": "The aggregate's version: order per subject by it"},
            "occurred_at": {"type": "string", "format": "date-time"},
            "payload": {"type": "object"},
        },
        "oneOf": [_variant(c) for c in sorted(CATEGORY_LABELS)],
    }


def document() -> dict[str, Any]:
    changes = ", ".join(sorted(change_of(t) for t in FEED_EVENT_TYPES))
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "去向 Quxiang school feed (学校数据订阅)",
            "version": f"{SCHEMA_VERSION}.0.0",
            "description": ("Each school receives the platform's changes that concern its graduates: roster, "
                            "agreements, destination registrations, archive and hukou registrations. No message "
                            "carries an identity number. Delivery is at least once: deduplicate by event_id. "
                            f"Changes: {changes}."),
        },
        "defaultContentType": "application/json",
        "servers": {
            "broker": {"host": "{host}", "protocol": "amqp", "protocolVersion": "0.9.1",
                       "description": "RabbitMQ; the vhost and credentials come with the school's account",
                       "variables": {"host": {"description": "The platform's broker host"}}},
            "webhooks": {"host": "{school_host}", "protocol": "https",
                         "description": "The school's own endpoint, registered as a webhook subscription",
                         "variables": {"school_host": {"description": "The subscription URL's host"}}},
        },
        "channels": {
            "schoolQueue": {
                "address": "qx.feed.school.{school_code}",
                "title": "A school's queue",
                "description": ("Durable quorum queue bound to exchange qx.feed (direct) with routing key "
                                "school.{school_code}. The school's broker user may only consume from it."),
                "servers": [{"$ref": "#/servers/broker"}],
                "parameters": {"school_code": {"description": "学校代码"}},
                "messages": {"feedEvent": {"$ref": "#/components/messages/FeedEvent"}},
                "bindings": {"amqp": {"is": "queue", "bindingVersion": "0.3.0",
                                      "queue": {"name": "qx.feed.school.{school_code}", "durable": True,
                                                "exclusive": False, "autoDelete": False, "vhost": "/"}}},
            },
            "webhook": {
                "address": "{subscription_url}",
                "title": "A school's webhook",
                "description": ("POST of one message per request, signed: HMAC-SHA256 of "
                                f"'<{TIMESTAMP_HEADER}>.<raw body>' with the subscription's secret, hex, sent as "
                                f"'{SIGNATURE_HEADER}: v1=<hex>'. Reject timestamps more than 300 s from your "
                                "clock. Answer 2xx; anything else is retried with exponential backoff."),
                "servers": [{"$ref": "#/servers/webhooks"}],
                "parameters": {"subscription_url": {"description": "The subscription's URL path"}},
                "messages": {"feedEvent": {"$ref": "#/components/messages/WebhookFeedEvent"}},
            },
        },
        "operations": {
            "consumeSchoolFeed": {"action": "receive", "channel": {"$ref": "#/channels/schoolQueue"},
                                  "summary": "Consume your school's feed; ack after storing",
                                  "messages": [{"$ref": "#/channels/schoolQueue/messages/feedEvent"}],
                                  "bindings": {"amqp": {"ack": True, "bindingVersion": "0.3.0"}}},
            "receiveWebhook": {"action": "receive", "channel": {"$ref": "#/channels/webhook"},
                               "summary": "Receive your school's feed over HTTPS",
                               "messages": [{"$ref": "#/channels/webhook/messages/feedEvent"}]},
        },
        "components": {
            "messages": {
                "FeedEvent": {
                    "name": "FeedEvent", "title": "A change concerning one graduate of the school",
                    "contentType": "application/json", "payload": {"$ref": "#/components/schemas/FeedEvent"},
                    "correlationId": {"location": "$message.payload#/event_id"},
                    "bindings": {"amqp": {"bindingVersion": "0.3.0", "messageType": "<change>"}},
                    "headers": {"type": "object", "properties": {
                        "schema_version": {"type": "integer"}, "school_code": {"type": "string"}}},
                },
                "WebhookFeedEvent": {
                    "name": "WebhookFeedEvent", "title": "The same message, POSTed and signed",
                    "contentType": "application/json", "payload": {"$ref": "#/components/schemas/FeedEvent"},
                    "headers": {"type": "object", "required": [TIMESTAMP_HEADER, SIGNATURE_HEADER],
                                "properties": {TIMESTAMP_HEADER: {"type": "string", "description": "Unix seconds"},
                                               SIGNATURE_HEADER: {"type": "string", "pattern": "^v1=[0-9a-f]{64}$"},
                                               EVENT_ID_HEADER: {"type": "string"},
                                               DELIVERY_HEADER: {"type": "string"}}},
                },
            },
            "schemas": {
                "FeedEvent": feed_event_schema(),
                "GraduatePayload": _payload_schema("graduate"),
                "AgreementPayload": _payload_schema("agreement"),
                "DestinationPayload": _payload_schema("destination"),
                "RegistrationPayload": _payload_schema("archive"),
                "Transfer": {"type": "object", "additionalProperties": False, "required": list(TRANSFER_FIELDS),
                             "properties": {n: dict(_NULLABLE_STRING) for n in TRANSFER_FIELDS}},
            },
        },
    }
