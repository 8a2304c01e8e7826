"""Flask building blocks shared by the services: app factory, problem+json errors, request ids,
health probes and Prometheus metrics."""

from quxiang.common.web.app import create_app, get_api
from quxiang.common.web.errors import (
    PROBLEM_CONTENT_TYPE,
    ProblemApi,
    ProblemError,
    ProblemSchema,
    problem_response,
)
from quxiang.common.web.health import add_readiness_check, broker_check, database_check
from quxiang.common.web.metrics import child_exit, mark_process_dead, register_collector
from quxiang.common.web.request_id import HEADER as REQUEST_ID_HEADER

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "REQUEST_ID_HEADER",
    "ProblemApi",
    "ProblemError",
    "ProblemSchema",
    "add_readiness_check",
    "broker_check",
    "child_exit",
    "create_app",
    "database_check",
    "get_api",
    "mark_process_dead",
    "problem_response",
    "register_collector",
]
