"""Domain events returned by the services (published on MQTT by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")

EVENT_KINDS = ("incident", "unit", "sla", "arrival")


@dataclass(frozen=True)
class DomainEvent:
    """One event; ``topic`` is ``siaga/v1/events/{kind}``."""

    kind: str
    payload: dict[str, Any]

    @property
    def topic(self) -> str:
        return f"siaga/v1/events/{self.kind}"

    def as_message(self) -> tuple[str, dict[str, Any]]:
        return self.topic, self.payload


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a state-changing service returns: the value and the events it produced."""

    value: T
    events: list[DomainEvent] = field(default_factory=list)
