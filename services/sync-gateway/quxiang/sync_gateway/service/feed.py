"""The school feed's use cases: recording entries (consumer), publishing them to RabbitMQ and pushing
them to webhooks (jobs), the pull endpoint, broker credentials and webhook subscriptions (API, CLI).

Scope: a school user acts on its own school only, a province user on the schools of its province
(known from accounts' events); outside it a school does not exist (404).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from prometheus_client import Counter
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from quxiang.common.auth.authorize import modules_allowing, not_found
from quxiang.common.auth.principal import Access, Module, Principal, Role
from quxiang.common.db import reading, serialize_on
from quxiang.common.events import Event
from quxiang.common.pii import redact_identity_numbers
from quxiang.common.times import iso_utc
from quxiang.common.web.errors import ProblemError
from quxiang.sync_gateway.adapters import feed_store, ledger
from quxiang.sync_gateway.adapters.broker_admin import BrokerAdmin, BrokerAdminError, vhost_of
from quxiang.sync_gateway.adapters.feed_publisher import FeedPublisher
from quxiang.sync_gateway.adapters.tables import DELIVERY_LABELS, feed_credentials, feed_webhooks
from quxiang.sync_gateway.domain import signatures
from quxiang.sync_gateway.domain.feed import FEED_EVENT_TYPES, category_of, entry_of, queue_name, routing_key
from quxiang.sync_gateway.service.context import Gateway

log = logging.getLogger(__name__)
PUBLISH_BATCH = 500
DELIVERY_BATCH = 50

PUBLISHED = Counter("qx_feed_published_total", "School feed messages confirmed by the broker")
WEBHOOK_ATTEMPTS = Counter("qx_feed_webhook_attempts_total", "Webhook delivery attempts", ["outcome"])


def webhook_address_error(url: str, allow_private: bool) -> str | None:
    """Why the platform may not call ``url``, or None. Only http(s) to public addresses: a school's
    subscription must not make the platform POST into its own network (the broker's management API,
    metadata endpoints). Checked at subscription and again before every attempt (DNS may change)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    if allow_private:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return "host does not resolve"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return f"address {address} is not public"
    return None


# -- recording (the feed consumer) ----------------------------------------------------------------

def record_event(session: Session, event: Event, now: datetime | None = None) -> int | None:
    """The feed entry of ``event`` in the consumer's transaction; None when it was already there."""
    entry = entry_of(event.event_id, event.type, event.subject, event.sequence, event.occurred_at, event.data)
    return feed_store.record(session, entry, now or datetime.now(UTC))


# -- scope ------------------------------------------------------------------------------------------

def school_in_scope(gateway: Gateway, principal: Principal, school: str | None, *, named: bool = False) -> str:
    """The school the caller acts on: its own (school user), or ``school`` of its province. A school
    outside the caller's scope is as good as unknown (404) when it is an object's; when the caller
    ``named`` it (the ``school`` parameter), 403 ``out_of_scope``, as every service answers."""
    refused = out_of_scope if named else not_found
    if principal.role is Role.SCHOOL:
        own = principal.scope.school or ""
        if school not in (None, own):
            raise refused()
        return own
    if not school:
        raise ProblemError(400, "school_required", detail="请指定学校代码 school")
    with reading(gateway.engine) as conn:
        province = ledger.province_of(conn, school)
    if province is None:
        raise not_found()
    if province != principal.scope.province:
        raise refused()
    return school


def out_of_scope() -> ProblemError:
    """Another school than the caller's own, or one of another province: what every service answers."""
    return ProblemError(403, "out_of_scope", detail="超出账号的管理范围")


# -- pull ---------------------------------------------------------------------------------------------

# Whose permission a category falls under: 生源, 签约 and 去向登记 are 基本信息和就业信息's.
MODULE_OF_CATEGORY = {"graduate": Module.EMPLOYMENT, "agreement": Module.EMPLOYMENT,
                      "destination": Module.EMPLOYMENT, "archive": Module.ARCHIVE, "hukou": Module.HUKOU}


def require_whole_feed(principal: Principal) -> None:
    """A broker credential or a webhook delivers every category of the school's feed: only an account
    that may read all three modules may set one up (the pull answers each its own modules)."""
    if categories_for(principal) is not None:
        raise ProblemError(403, "module_forbidden", needed=Access.READ.value,
                           detail="订阅学校的全部数据（消息队列、Webhook）需要三个模块都有只读及以上权限")


def categories_for(principal: Principal) -> tuple[str, ...] | None:
    """The categories the caller may read, None for all of them; 403 when it may read none."""
    allowed = modules_allowing(principal)  # 403 with none
    readable = tuple(c for c, m in MODULE_OF_CATEGORY.items() if m in allowed)
    return None if len(readable) == len(MODULE_OF_CATEGORY) else readable


def pull(gateway: Gateway, school: str, after: int, limit: int,
         categories: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The school's messages with a sequence above ``after``, oldest first, of ``categories`` (None:
    all); ``next_cursor`` is what to pass next time (the last sequence returned, or ``after`` when
    there is nothing new)."""
    if categories is not None:
        return _pull_some(gateway, school, after, limit, categories)
    with reading(gateway.engine) as conn:
        items = feed_store.page_after(conn, school, after, limit + 1)
    more = len(items) > limit
    items = items[:limit]
    return {"school_code": school, "items": items, "page_size": limit,
            "next_cursor": items[-1]["sequence"] if items else after, "has_more": more}


# How many of the school's entries one filtered pull looks at: a cursor behind thousands of entries
# of modules the account may not read moves past them in steps of this many (along the cursor's
# index), instead of each poll reading them all to find nothing.
PULL_WINDOW = 2000


def _pull_some(gateway: Gateway, school: str, after: int, limit: int,
               categories: tuple[str, ...]) -> dict[str, Any]:
    """A pull of some categories only: the cursor passes over the others' sequences (so there are
    gaps), and moves to the last entry looked at even when none of them was the caller's."""
    types = [t for t in FEED_EVENT_TYPES if category_of(t) in categories]
    with reading(gateway.engine) as conn:
        seen = feed_store.types_after(conn, school, after, PULL_WINDOW)
        chosen: list[int] = []
        cursor, more = after, len(seen) == PULL_WINDOW
        for sequence, event_type in seen:
            if len(chosen) == limit:
                more = True
                break
            cursor = sequence
            if event_type in types:
                chosen.append(sequence)
        items = feed_store.messages_at(conn, school, chosen)
    return {"school_code": school, "items": items, "page_size": limit, "next_cursor": cursor, "has_more": more}


# -- publishing (a job) -------------------------------------------------------------------------------

class FeedRelay:
    """Publishes unpublished entries in entry order and marks them published once confirmed. A crash
    between the confirm and the mark publishes an entry again: schools deduplicate by ``event_id``."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        settings = gateway.settings.feed
        self.publisher = (None if gateway.config.embedded_bus else
                          FeedPublisher(gateway.config.broker_url, settings.exchange, settings.queue_prefix,
                                        gateway.config.relay_confirm_timeout))

    def publish_round(self, limit: int = PUBLISH_BATCH) -> int:
        if self.publisher is None:
            return 0  # the embedded bus has no broker: the pull endpoint and webhooks serve the feed
        with self.gateway.engine.begin() as conn:
            if not feed_store.lock_publisher(conn):
                return 0
            rows = feed_store.unpublished(conn, limit)
            if not rows:
                return 0
            subscribed = feed_store.schools_with_credentials(conn)
            queued = [r for r in rows if r.school_code in subscribed]
            # A school that never had a broker user has no queue to fill: its entries are served
            # by the pull endpoint and webhooks only.
            skipped = [r.id for r in rows if r.school_code not in subscribed]
            confirmed = self.publisher.publish(queued) if queued else []
            feed_store.mark_published(conn, [*confirmed, *skipped], datetime.now(UTC))
        PUBLISHED.inc(len(confirmed))
        return len(confirmed) + len(skipped)

    def close(self) -> None:
        if self.publisher is not None:
            self.publisher.close()


# -- webhook deliveries (a job) -----------------------------------------------------------------------

@dataclass
class WebhookSender:
    gateway: Gateway
    http: requests.Session | None = None

    def __post_init__(self) -> None:
        self.http = self.http or requests.Session()

    def backoff(self, attempt: int) -> float:
        settings = self.gateway.settings.feed
        return min(settings.webhook_backoff_max, settings.webhook_backoff * 2 ** (attempt - 1))

    def deliver_round(self, limit: int = DELIVERY_BATCH) -> int:
        """Send the due deliveries once each; how many were attempted."""
        now = datetime.now(UTC)
        with self.gateway.engine.begin() as conn:
            due = feed_store.claim_due(conn, now, limit, self._lease())
        return sum(self._send(row) for row in due)

    def _lease(self) -> timedelta:
        return timedelta(seconds=self.gateway.settings.feed.webhook_timeout + 30)

    def _send(self, row: Any) -> bool:
        """One delivery, if it is still this sender's: the batch's lease may have run out while the
        deliveries before it were sent (each up to the timeout), and another sender taken it."""
        settings = self.gateway.settings.feed
        with self.gateway.engine.begin() as conn:
            if not feed_store.renew(conn, row.id, row.held_until, datetime.now(UTC) + self._lease()):
                return False
        attempt = row.attempts + 1
        started = datetime.now(UTC)
        clock = time.monotonic()
        status_code: int | None = None
        error: str | None = None
        refused = webhook_address_error(row.url, settings.webhook_allow_private) if row.active else None
        if not row.active:
            error = "subscription deleted"
        elif refused:
            error = f"URL refused: {refused}"
        else:
            message = row.message if isinstance(row.message, dict) else json.loads(row.message)
            body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "quxiang-feed/1",
                       signatures.EVENT_ID_HEADER: row.event_id, signatures.DELIVERY_HEADER: str(row.id),
                       **signatures.signed_headers(row.secret, body)}
            try:
                response = self.http.post(row.url, data=body, headers=headers,  # type: ignore[union-attr]
                                          timeout=settings.webhook_timeout, allow_redirects=False)
                status_code = response.status_code
                if not 200 <= status_code < 300:
                    error = f"HTTP {status_code}"
            except requests.RequestException as exc:
                error = redact_identity_numbers(f"{type(exc).__name__}: {exc}")[:500]
        ok = error is None
        give_up = not row.active or attempt >= settings.webhook_max_attempts
        WEBHOOK_ATTEMPTS.labels("delivered" if ok else "failed" if give_up else "retry").inc()
        if not ok and give_up:
            log.warning("feed: webhook delivery %s of school %s given up after %d attempts: %s",
                        row.id, row.school_code, attempt, error)
        with self.gateway.engine.begin() as conn:
            feed_store.settle(conn, row.id, attempt, started, status_code, error,
                              int((time.monotonic() - clock) * 1000), ok, give_up,
                              started + timedelta(seconds=self.backoff(attempt)))
        return True


# -- broker credentials -------------------------------------------------------------------------------

def _admin(gateway: Gateway) -> BrokerAdmin:
    if gateway.config.embedded_bus:
        raise ProblemError(503, "broker_unavailable", detail="未配置 RabbitMQ（嵌入式消息总线），无法创建订阅账号")
    return BrokerAdmin(gateway.settings.feed.admin_url)


@contextmanager
def _broker_admin_errors() -> Iterator[None]:
    try:
        yield
    except BrokerAdminError as exc:
        log.error("school feed: the RabbitMQ management API failed: %s", exc)
        raise ProblemError(503, "broker_admin_unavailable", detail="消息服务器管理接口暂不可用，请稍后重试") from None


def _credential_out(gateway: Gateway, row: Any, password: str | None = None) -> dict[str, Any]:
    settings = gateway.settings.feed
    out = {"school_code": row.school_code, "username": row.username, "active": row.active,
           "status_label": "有效" if row.active else "已吊销",
           "vhost": vhost_of(gateway.config.broker_url) if not gateway.config.embedded_bus else None,
           "queue": queue_name(settings.queue_prefix, row.school_code), "exchange": settings.exchange,
           "routing_key": routing_key(row.school_code), "created_at": iso_utc(row.created_at),
           "rotated_at": iso_utc(row.rotated_at), "revoked_at": iso_utc(row.revoked_at)}
    if password is not None:
        out["password"] = password
        out["password_note"] = "密码只显示这一次，平台不保存"  # noqa: S105 - a label, not a password
    return out


def _credential(gateway: Gateway, school: str) -> Any:
    with reading(gateway.engine) as conn:
        return conn.execute(select(feed_credentials).where(feed_credentials.c.school_code == school)).first()


def show_credential(gateway: Gateway, school: str) -> dict[str, Any]:
    row = _credential(gateway, school)
    if row is None:
        raise not_found()
    return _credential_out(gateway, row)


def _credential_lock(school: str) -> str:
    return f"sync.feed-credential:{school}"


def issue_credential(gateway: Gateway, school: str, actor: str, rotate: bool = False) -> dict[str, Any]:
    """Create (or with ``rotate`` replace the password of) the school's broker user; the password is
    returned here only. Rotating closes the connections opened with the old password. The school's
    credential is held (``db.serialize_on``) from the read to the write, broker calls included: a
    rotation meeting a revocation re-created the user the revocation had deleted (a revoked
    credential that still worked), and two first creations answered a password the broker no
    longer held beside a 500."""
    admin = _admin(gateway)
    settings = gateway.settings.feed
    username = f"{settings.user_prefix}{school}"
    password = secrets.token_urlsafe(24)
    vhost = vhost_of(gateway.config.broker_url)
    queue = queue_name(settings.queue_prefix, school)
    with gateway.engine.begin() as conn:
        serialize_on(conn, _credential_lock(school))
        row = conn.execute(select(feed_credentials).where(feed_credentials.c.school_code == school)).first()
        if rotate and (row is None or not row.active):
            raise ProblemError(409, "no_active_credential", detail="该学校没有有效的订阅账号，请先创建")
        if not rotate and row is not None and row.active:
            raise ProblemError(409, "credential_exists", detail="该学校已有订阅账号；如需新密码请轮换")
        with _broker_admin_errors():
            admin.declare_school_queue(vhost, settings.exchange, queue, routing_key(school))
            admin.put_user(username, password)
            admin.grant_consume_only(vhost, username, queue)
            if rotate:
                admin.close_connections(username)
        now = datetime.now(UTC)
        if row is None:
            conn.execute(insert(feed_credentials).values(school_code=school, username=username, active=True,
                                                         created_at=now, created_by=actor))
        elif rotate:
            conn.execute(update(feed_credentials).where(feed_credentials.c.school_code == school)
                         .values(rotated_at=now))
        else:
            conn.execute(update(feed_credentials).where(feed_credentials.c.school_code == school).values(
                username=username, active=True, created_at=now, created_by=actor, rotated_at=None,
                revoked_at=None, revoked_by=None))
    return _credential_out(gateway, _credential(gateway, school), password)


def revoke_credential(gateway: Gateway, school: str, actor: str) -> dict[str, Any]:
    """Delete the broker user and close its connections: the broker refuses it from now on. Held as
    ``issue_credential`` holds it."""
    with gateway.engine.begin() as conn:
        serialize_on(conn, _credential_lock(school))
        row = conn.execute(select(feed_credentials).where(feed_credentials.c.school_code == school)).first()
        if row is None:
            raise not_found()
        admin = _admin(gateway)
        with _broker_admin_errors():
            admin.delete_user(row.username)
            admin.close_connections(row.username)
        conn.execute(update(feed_credentials).where(feed_credentials.c.school_code == school).values(
            active=False, revoked_at=datetime.now(UTC), revoked_by=actor))
    return _credential_out(gateway, _credential(gateway, school))


# -- webhook subscriptions ----------------------------------------------------------------------------

def webhook_out(row: Any, secret: str | None = None) -> dict[str, Any]:
    out = {"id": row.id, "school_code": row.school_code, "url": row.url, "active": row.active,
           "created_at": iso_utc(row.created_at), "deleted_at": iso_utc(row.deleted_at)}
    if secret is not None:
        out["secret"] = secret
        out["secret_note"] = "签名密钥只显示这一次"  # noqa: S105 - a label
    return out


def subscribe(gateway: Gateway, school: str, url: str, actor: str) -> dict[str, Any]:
    refused = webhook_address_error(url, gateway.settings.feed.webhook_allow_private)
    if refused:
        raise ProblemError(422, "webhook_url_not_allowed", detail=f"回调地址不可用：{refused}")
    secret = "whsec_" + secrets.token_urlsafe(32)
    with gateway.engine.begin() as conn:
        hook_id = conn.execute(insert(feed_webhooks).values(
            school_code=school, url=url, secret=secret, active=True, created_at=datetime.now(UTC),
            created_by=actor).returning(feed_webhooks.c.id)).scalar_one()
        row = conn.execute(select(feed_webhooks).where(feed_webhooks.c.id == hook_id)).one()
    return webhook_out(row, secret)


def webhooks(gateway: Gateway, school: str) -> list[dict[str, Any]]:
    with reading(gateway.engine) as conn:
        rows = conn.execute(select(feed_webhooks).where(feed_webhooks.c.school_code == school)
                            .order_by(feed_webhooks.c.id)).all()
    return [webhook_out(r) for r in rows]


def webhook_in_scope(gateway: Gateway, principal: Principal, webhook_id: int) -> Any:
    with reading(gateway.engine) as conn:
        row = conn.execute(select(feed_webhooks).where(feed_webhooks.c.id == webhook_id)).first()
    if row is None:
        raise not_found()
    school_in_scope(gateway, principal, row.school_code)
    return row


def unsubscribe(gateway: Gateway, webhook_id: int) -> dict[str, Any]:
    with gateway.engine.begin() as conn:
        conn.execute(update(feed_webhooks).where(feed_webhooks.c.id == webhook_id)
                     .values(active=False, deleted_at=datetime.now(UTC)))
        return webhook_out(conn.execute(select(feed_webhooks).where(feed_webhooks.c.id == webhook_id)).one())


def delivery_out(row: Any, attempts: Any = None) -> dict[str, Any]:
    out = {"id": row.id, "webhook_id": row.webhook_id, "event_id": row.event_id, "sequence": row.sequence,
           "status": row.status, "status_label": DELIVERY_LABELS[row.status], "attempts": row.attempts,
           "last_status_code": row.last_status_code, "last_error": row.last_error,
           "next_attempt_at": iso_utc(row.next_attempt_at) if row.status == "pending" else None,
           "delivered_at": iso_utc(row.delivered_at), "failed_at": iso_utc(row.failed_at)}
    if attempts is not None:
        out["attempt_log"] = [{"attempt": a.attempt, "started_at": iso_utc(a.started_at),
                               "status_code": a.status_code, "error": a.error, "duration_ms": a.duration_ms}
                              for a in attempts]
    return out


def delivery_in_scope(gateway: Gateway, principal: Principal, delivery_id: int) -> dict[str, Any]:
    with reading(gateway.engine) as conn:
        row = feed_store.delivery(conn, delivery_id)
        if row is None:
            raise not_found()
        school_in_scope(gateway, principal, row.school_code)
        return delivery_out(row, feed_store.attempts_of(conn, delivery_id))


def redeliver(gateway: Gateway, principal: Principal, delivery_id: int) -> dict[str, Any]:
    """A delivery (failed, or delivered and wanted again) back to pending with a fresh budget."""
    delivery_in_scope(gateway, principal, delivery_id)
    with gateway.engine.begin() as conn:
        if not feed_store.redeliver(conn, delivery_id, datetime.now(UTC)):
            raise ProblemError(409, "delivery_pending", detail="该投递正在发送或等待重试，无需重新投递")
    return delivery_in_scope(gateway, principal, delivery_id)


__all__ = ["FeedRelay", "WebhookSender", "issue_credential", "pull", "record_event",
           "revoke_credential", "subscribe"]
