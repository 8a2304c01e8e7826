"""学校数据订阅: the school feed over HTTP, for school users (their school) and province users (the
schools of their province). Reading needs the employment module read, changing it read-write.

- ``GET /feed/asyncapi.json``: the feed's AsyncAPI document (public).
- ``GET /feed/events?school=&after=&page_size=``: the school's messages after a cursor.
- ``GET|POST|DELETE /feed/credentials?school=``, ``POST /feed/credentials/rotate?school=``: the
  school's RabbitMQ user (the password is in the POST answers only).
- ``GET|POST /feed/webhooks?school=``, ``DELETE /feed/webhooks/<id>``: subscriptions (the secret is
  in the POST answer only); ``GET /feed/webhooks/<id>/deliveries[?status=]``,
  ``GET /feed/deliveries/<id>`` (with every attempt), ``POST /feed/deliveries/<id>/redeliver``.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from quxiang.common.auth import current_principal, public, requires
from quxiang.common.auth.principal import Access, Module, Role
from quxiang.common.db import reading
from quxiang.common.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest
from quxiang.common.web.blueprint import Blueprint
from quxiang.common.web.paging import PageArgs, Trimmed, page_args, page_out
from quxiang.sync_gateway.adapters import feed_store
from quxiang.sync_gateway.adapters.tables import DELIVERY_LABELS
from quxiang.sync_gateway.domain import asyncapi
from quxiang.sync_gateway.entrypoints.context import gateway
from quxiang.sync_gateway.entrypoints.openapi import json_answer
from quxiang.sync_gateway.service import feed

blueprint = Blueprint("feed", __name__, description="学校数据订阅 The school feed")

USERS = (Role.PROVINCE, Role.SCHOOL)


class SchoolArgs(Schema):
    school = Trimmed(load_default=None, validate=validate.Length(min=1, max=10))


class PullArgs(SchoolArgs):
    # A sequence is a 64-bit integer in the database: a larger cursor is refused, not a 500.
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**63 - 1),
                           metadata={"description": "The cursor: the last sequence received (0: from the start)"})
    page_size = fields.Integer(load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(min=1),
                               metadata={"description": f"More than {MAX_PAGE_SIZE} is served as {MAX_PAGE_SIZE}"})


class WebhookIn(Schema):
    url = Trimmed(required=True, validate=validate.Length(min=8, max=500))


class DeliveryArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(list(DELIVERY_LABELS)))


def _school(args: dict[str, Any]) -> str:
    return feed.school_in_scope(gateway(), current_principal(), args.get("school"), named=True)


@blueprint.route("/feed/asyncapi.json")
@json_answer(blueprint)
@public
def asyncapi_document() -> dict[str, Any]:
    return asyncapi.document()


@blueprint.route("/feed/events")
@json_answer(blueprint)
@blueprint.arguments(PullArgs, location="query")
@requires(*USERS)
def pull_events(args: dict[str, Any]) -> dict[str, Any]:
    size = PageRequest(page_size=args["page_size"]).page_size
    categories = feed.categories_for(current_principal())
    return feed.pull(gateway(), _school(args), args["after"], size, categories)


@blueprint.route("/feed/credentials")
@json_answer(blueprint)
@blueprint.arguments(SchoolArgs, location="query")
@requires(*USERS, module=Module.EMPLOYMENT, access=Access.READ)
def show_credential(args: dict[str, Any]) -> dict[str, Any]:
    return feed.show_credential(gateway(), _school(args))


@blueprint.route("/feed/credentials", methods=["POST"])
@json_answer(blueprint, 201, "Created")
@blueprint.arguments(SchoolArgs, location="query")
@requires(*USERS, module=Module.EMPLOYMENT, access=Access.WRITE)
def create_credential(args: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    feed.require_whole_feed(current_principal())
    out = feed.issue_credential(gateway(), _school(args), current_principal().user_id)
    return out, 201, {"Cache-Control": "no-store"}


@blueprint.route("/feed/credentials/rotate", methods=["POST"])
@json_answer(blueprint)
@blueprint.arguments(SchoolArgs, location="query")
@requires(*USERS, module=Module.EMPLOYMENT, access=Access.WRITE)
def rotate_credential(args: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    feed.require_whole_feed(current_principal())
    out = feed.issue_credential(gateway(), _school(args), current_principal().user_id, rotate=True)
    return out, 200, {"Cache-Control": "no-store"}


@blueprint.route("/feed/credentials", methods=["DELETE"])
@json_answer(blueprint)
@blueprint.arguments(SchoolArgs, location="query")
@requires(*USERS, module=Module.EMPLOYMENT, access=Access.WRITE)
def revoke_credential(args: dict[str, Any]) -> dict[str, Any]:
    return feed.revoke_credential(gateway(), _school(args), current_principal().user_id)


@blueprint.route("/feed/webhooks")
@json_answer(blueprint)
@blueprint.arguments(SchoolArgs, location="query")
@requires(*USERS, module=Module.EMPLOYMENT, access=Access.READ)
def list_webhooks(args: dict[str, Any]) -> dict[str, Any]:
    return {"items": feed.webhooks(gateway(), _school(args))}


@blueprint.route("/feed/webhooks", methods=["POST"])
@json_answer(blueprint, 201, "Created")
@blueprint.arguments(SchoolArgs, location="query")
@blueprint.arguments(WebhookIn)
@requires(*USERS, module=Module.EMPLOYMENT, access=Access.WRITE)
def create_webhook(args: dict[str, Any], body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    feed.require_whole_feed(current_principal())
    out = feed.subscribe(gateway(), _school(args), body["url"], current_principal().user_id)
    return out, 201, {"Cache-Control": "no-store"}


@blueprint.route("/feed/webhooks/<int(max=2147483647):webhook_id>", methods=["DELETE"])
@json_answer(blueprint)
@requires(*USERS, module=Module.EMPLOYMENT, access=Access.WRITE)
def delete_webhook(webhook_id: int) -> dict[str, Any]:
    feed.webhook_in_scope(gateway(), current_principal(), webhook_id)
    return feed.unsubscribe(gateway(), webhook_id)


@blueprint.route("/feed/webhooks/<int(max=2147483647):webhook_id>/deliveries")
@json_answer(blueprint)
@blueprint.arguments(DeliveryArgs, location="query")
@requires(*USERS, module=Module.EMPLOYMENT, access=Access.READ)
def list_deliveries(args: dict[str, Any], webhook_id: int) -> dict[str, Any]:
    feed.webhook_in_scope(gateway(), current_principal(), webhook_id)
    page = page_args(args)
    with reading(gateway().engine) as conn:
        total = feed_store.count_deliveries(conn, webhook_id, args["status"])
        rows = feed_store.deliveries_of(conn, webhook_id, args["status"], page.offset, page.page_size)
    return page_out(Page.of(rows, total, page), feed.delivery_out)


@blueprint.route("/feed/deliveries/<int(max=9223372036854775807):delivery_id>")
@json_answer(blueprint)
@requires(*USERS, module=Module.EMPLOYMENT, access=Access.READ)
def show_delivery(delivery_id: int) -> dict[str, Any]:
    return feed.delivery_in_scope(gateway(), current_principal(), delivery_id)


@blueprint.route("/feed/deliveries/<int(max=9223372036854775807):delivery_id>/redeliver", methods=["POST"])
@json_answer(blueprint)
@requires(*USERS, module=Module.EMPLOYMENT, access=Access.WRITE)
def redeliver(delivery_id: int) -> dict[str, Any]:
    return feed.redeliver(gateway(), current_principal(), delivery_id)
