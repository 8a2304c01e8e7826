"""同步状态 for province and school users, in their scope: per school the backlog (pending), the
failures (failed), the synced count, the age of the oldest pending record and the lag (event
recorded -> EMS write) of what was synced in the last hour; the failed records; retrying them.

A province user sees the schools of its province (known from accounts' events), a school user its
own school. Outside the scope a school does not exist (404), a retry is refused (403/404)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from quxiang.common.auth.authorize import module_forbidden, modules_allowing, not_found
from quxiang.common.auth.principal import Access, Module, Principal, Role, Scope
from quxiang.common.db import reading
from quxiang.common.paging import Page, PageRequest
from quxiang.common.times import iso_utc
from quxiang.common.web.errors import ProblemError
from quxiang.sync_gateway.adapters import ledger
from quxiang.sync_gateway.adapters.ledger import utc
from quxiang.sync_gateway.adapters.tables import FAILED, PENDING, SYNCED, sync_records
from quxiang.sync_gateway.domain.records import ARCHIVE, DESTINATION, HUKOU, KIND_LABELS
from quxiang.sync_gateway.service.context import Gateway
from quxiang.sync_gateway.service.feed import out_of_scope

LAG_WINDOW = timedelta(hours=1)


def schools_in_scope(gateway: Gateway, principal: Principal, school: str | None) -> dict[str, str | None]:
    """The schools the view covers: code -> name (None when only the code is known)."""
    with reading(gateway.engine) as conn:
        if principal.role is Role.PROVINCE:
            schools: dict[str, str | None] = dict(ledger.schools_of_province(conn, principal.scope.province or ""))
        else:
            own = principal.scope.school or ""
            schools = {own: ledger.school_name(conn, own)}
    if school is not None:
        if school not in schools:
            with reading(gateway.engine) as conn:
                known = ledger.province_of(conn, school) is not None
            raise out_of_scope() if known or principal.role is Role.SCHOOL else not_found()
        return {school: schools[school]}
    return schools


def _empty() -> dict[str, Any]:
    return {"pending": 0, "synced": 0, "failed": 0, "oldest_pending_age_s": None, "lag_ms_avg": None,
            "lag_ms_max": None, "synced_last_hour": 0}


def status_view(gateway: Gateway, principal: Principal, school: str | None = None,
                now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    kinds = kinds_for(principal, Access.READ)  # the counts of the records the caller may see
    schools = schools_in_scope(gateway, principal, school)
    rows = {code: {"school_code": code, "school_name": name, **_empty()} for code, name in schools.items()}
    codes = list(schools)
    with reading(gateway.engine) as conn:
        for code, status, count, oldest in conn.execute(
                select(sync_records.c.school_code, sync_records.c.status, func.count(),
                       func.min(func.coalesce(sync_records.c.pending_since, sync_records.c.occurred_at)))
                .where(sync_records.c.school_code.in_(codes), sync_records.c.kind.in_(kinds))
                .group_by(sync_records.c.school_code,
                                                                      sync_records.c.status)):
            rows[code][status] = count
            if status == PENDING and oldest is not None:
                rows[code]["oldest_pending_age_s"] = round((now - utc(oldest)).total_seconds(), 3)  # type: ignore[operator]
        for code, count, average, longest in conn.execute(
                select(sync_records.c.school_code, func.count(), func.avg(sync_records.c.lag_ms),
                       func.max(sync_records.c.lag_ms))
                .where(sync_records.c.school_code.in_(codes), sync_records.c.kind.in_(kinds),
                       sync_records.c.synced_at >= now - LAG_WINDOW)
                .group_by(sync_records.c.school_code)):
            rows[code].update(synced_last_hour=count, lag_ms_avg=round(float(average)) if average is not None else None,
                              lag_ms_max=longest)
    items = sorted(rows.values(), key=lambda r: r["school_code"])
    return {"scope": "province" if principal.role is Role.PROVINCE else "school", "items": items,
            "total": _total(items), "labels": {"pending": "待同步", "synced": "已同步", "failed": "同步失败"}}


def _total(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    total = _empty()
    for name in ("pending", "synced", "failed", "synced_last_hour"):
        total[name] = sum(i[name] for i in items)
    ages = [i["oldest_pending_age_s"] for i in items if i["oldest_pending_age_s"] is not None]
    total["oldest_pending_age_s"] = max(ages) if ages else None
    longest = [i["lag_ms_max"] for i in items if i["lag_ms_max"] is not None]
    total["lag_ms_max"] = max(longest) if longest else None
    weighted = [(i["lag_ms_avg"], i["synced_last_hour"]) for i in items if i["lag_ms_avg"] is not None]
    count = sum(n for _, n in weighted)
    total["lag_ms_avg"] = round(sum(a * n for a, n in weighted) / count) if count else None
    return total


# Whose permission a record falls under: 毕业去向 is the employment module's, 档案 and 户口 their own.
MODULE_OF_KIND = {DESTINATION: Module.EMPLOYMENT, ARCHIVE: Module.ARCHIVE, HUKOU: Module.HUKOU}


def kinds_for(principal: Principal, access: Access) -> list[str]:
    """The kinds of record the caller may see (``READ``) or retry (``WRITE``): a school account only
    those of the modules it has that access to (无权限 on 档案 hides the archive records)."""
    allowed = modules_allowing(principal, access)  # 403 with none
    return [kind for kind, module in MODULE_OF_KIND.items() if module in allowed]


def failed_records(gateway: Gateway, principal: Principal, school: str | None, request: PageRequest) -> Page[Any]:
    codes = list(schools_in_scope(gateway, principal, school))
    kinds = kinds_for(principal, Access.READ)
    where = (sync_records.c.status == FAILED, sync_records.c.school_code.in_(codes), sync_records.c.kind.in_(kinds))
    with reading(gateway.engine) as conn:
        total = conn.execute(select(func.count()).select_from(sync_records).where(*where)).scalar_one()
        rows = conn.execute(select(sync_records).where(*where).order_by(sync_records.c.id)
                            .offset(request.offset).limit(request.page_size)).all()
    return Page.of(rows, total, request)


def record_out(row: Any) -> dict[str, Any]:
    return {"id": row.id, "exam_number": row.exam_number, "name": row.name, "school_code": row.school_code,
            "kind": row.kind, "kind_label": KIND_LABELS[row.kind], "status": row.status,
            "attempts": row.attempts, "last_error": row.last_error, "version": row.version,
            "event_id": row.event_id, "occurred_at": iso_utc(row.occurred_at), "failed_at": iso_utc(row.failed_at),
            "synced_at": iso_utc(row.synced_at), "updated_at": iso_utc(row.updated_at)}


def _scope_of(gateway: Gateway, school_code: str) -> Scope:
    with reading(gateway.engine) as conn:
        return Scope(province=ledger.province_of(conn, school_code), school=school_code)


def retry_one(gateway: Gateway, principal: Principal, record_id: int) -> dict[str, Any]:
    writable = kinds_for(principal, Access.WRITE)  # may it retry anything at all: 403 before the lookup
    with reading(gateway.engine) as conn:
        row = ledger.get_record(conn, record_id)
    if (row is None or not principal.covers(_scope_of(gateway, row.school_code))
            or row.kind not in kinds_for(principal, Access.READ)):
        raise not_found()
    if row.kind not in writable:
        module = MODULE_OF_KIND[row.kind]
        raise module_forbidden(module, Access.WRITE)
    if row.status != FAILED:
        raise ProblemError(409, "not_failed", detail="该记录不是同步失败状态", current_status=row.status)
    ledger.retry_failed(gateway.engine, ids=[record_id])
    with reading(gateway.engine) as conn:
        return record_out(ledger.get_record(conn, record_id))


def retry_all(gateway: Gateway, principal: Principal, school: str | None) -> dict[str, Any]:
    codes = list(schools_in_scope(gateway, principal, school))
    kinds = kinds_for(principal, Access.WRITE)
    return {"retried": ledger.retry_failed(gateway.engine, schools=codes, kinds=kinds)}


__all__ = ["PENDING", "SYNCED", "failed_records", "record_out", "retry_all", "retry_one", "status_view"]
