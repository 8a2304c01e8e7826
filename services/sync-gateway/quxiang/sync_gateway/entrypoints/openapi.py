"""OpenAPI documentation of the JSON answers whose shape the service builds itself (dicts, not
marshmallow schemas): the status and the content type are documented, so clients and the
contract tests know what comes back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from quxiang.common.web.blueprint import Blueprint

F = TypeVar("F", bound=Callable[..., Any])


def json_answer(blueprint: Blueprint, status: int = 200, description: str = "OK") -> Callable[[F], F]:
    return blueprint.doc(responses={str(status): {
        "description": description, "content": {"application/json": {"schema": {"type": "object"}}}}})
