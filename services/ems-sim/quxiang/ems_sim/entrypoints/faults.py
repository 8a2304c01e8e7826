"""Fault injection in front of the API: down answers 503 to everything but ``/admin/*`` and the
probes; latency, 503s (``error_rate``) and 429s with Retry-After (``throttle_rate``) apply to
``/graduates`` and ``/records``. The settings start from ``QX_EMS_FAULTS`` (JSON, optional)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping

import flask
from marshmallow import ValidationError

from quxiang.common.config import ConfigError
from quxiang.common.web.errors import problem_response
from quxiang.ems_sim.domain.faults import NO_FAULTS, Fault, FaultSettings
from quxiang.ems_sim.entrypoints.schemas import FaultsBody
from quxiang.ems_sim.service.context import EmsSim

ENVIRONMENT_VARIABLE = "QX_EMS_FAULTS"
NEVER_DOWN = ("/admin/", "/healthz", "/readyz", "/metrics")
FAULTED = ("/graduates/", "/records", "/batch")
UNAVAILABLE = "就业管理系统暂时不可用，请稍后重试"
THROTTLED = "请求过于频繁，请稍后重试"


def faults_from_environment(environ: Mapping[str, str] | None = None) -> FaultSettings:
    raw = (os.environ if environ is None else environ).get(ENVIRONMENT_VARIABLE, "").strip()
    if not raw:
        return NO_FAULTS
    try:
        return FaultSettings(**FaultsBody().load(json.loads(raw)))
    except (ValueError, TypeError, ValidationError) as exc:
        raise ConfigError(f"{ENVIRONMENT_VARIABLE}: {exc}") from exc


def install_faults(app: flask.Flask, service: EmsSim) -> None:
    @app.before_request
    def inject_faults() -> flask.Response | None:
        path = flask.request.path
        if path.startswith(NEVER_DOWN):
            return None
        faulted = path.startswith(FAULTED)
        settings = service.faults.settings
        if not settings.down and not faulted:
            return None
        decision = service.faults.decide()
        if decision.failure is Fault.DOWN:
            service.counters.fault(Fault.DOWN)
            return problem_response(503, "service_unavailable", detail=UNAVAILABLE, fault=Fault.DOWN.value)
        if decision.latency_ms:
            service.counters.fault(Fault.LATENCY)
            time.sleep(decision.latency_ms / 1000)
        if decision.failure is Fault.THROTTLE:
            service.counters.fault(Fault.THROTTLE)
            return problem_response(429, "too_many_requests", detail=THROTTLED, fault=Fault.THROTTLE.value,
                                    headers={"Retry-After": str(settings.retry_after_s)})
        if decision.failure is Fault.ERROR:
            service.counters.fault(Fault.ERROR)
            return problem_response(503, "service_unavailable", detail=UNAVAILABLE, fault=Fault.ERROR.value)
        return None
