"""One explicit table of allowed transitions per workflow, and the refusal that names the current
state and what is allowed instead. Every flow of every service (registrations, signing, termination,
destination registration, void requests) is declared with it, so refusals read the same everywhere.
Pure values: no framework, no database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=StrEnum)


class RefusedTransition(Exception):
    """``action`` is not allowed in ``current`` (answered as 409 with ``current`` and ``allowed``)."""

    def __init__(self, workflow: str, current: StrEnum, current_label: str, action: StrEnum, action_label: str,
                 allowed: tuple[StrEnum, ...], allowed_labels: tuple[str, ...]) -> None:
        self.workflow = workflow
        self.current = current
        self.current_label = current_label
        self.action = action
        self.allowed = allowed
        self.allowed_labels = allowed_labels
        allowed_text = "、".join(allowed_labels) or "无"
        super().__init__(f"当前状态为“{current_label}”，不能{action_label}；可执行的操作：{allowed_text}")

    def as_problem(self) -> dict[str, object]:
        """The fields a 409 answer carries besides its detail."""
        return {"current_status": self.current.value, "current_status_label": self.current_label,
                "allowed_actions": [a.value for a in self.allowed]}


@dataclass(frozen=True)
class Workflow(Generic[S, A]):
    name: str
    transitions: Mapping[A, Mapping[S, S]]   # action -> {from: to}
    status_labels: Mapping[S, str]
    action_labels: Mapping[A, str]

    def __post_init__(self) -> None:
        for action, moves in self.transitions.items():
            if action not in self.action_labels:
                raise ValueError(f"{self.name}: action {action} has no label")
            for source, target in moves.items():
                for status in (source, target):
                    if status not in self.status_labels:
                        raise ValueError(f"{self.name}: status {status} has no label")

    def allowed(self, current: S) -> tuple[A, ...]:
        return tuple(action for action, moves in self.transitions.items() if current in moves)

    def next(self, current: S, action: A) -> S:
        """Where ``action`` takes ``current``; raises ``RefusedTransition``."""
        target = self.transitions.get(action, {}).get(current)
        if target is None:
            allowed = self.allowed(current)
            raise RefusedTransition(self.name, current, self.status_labels[current], action,
                                    self.action_labels[action], allowed,
                                    tuple(self.action_labels[a] for a in allowed))
        return target

    def is_final(self, status: S) -> bool:
        return not self.allowed(status)
