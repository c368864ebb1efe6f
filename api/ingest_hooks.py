"""Hooks the ingest worker runs after each committed batch of fixes (wired in ``siaga ingest``).

Each hook is ``hook(session, fixes) -> list[event]`` where an event is ``(topic, payload_dict)``
to publish on MQTT. The ingest worker lives in ``tracking`` and knows nothing of dispatch; this
composition-root module is where dispatch's arrival verification is plugged in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

IngestHook = Callable[[Any, Sequence[Any]], list[tuple[str, dict]]]


def ingest_hooks(settings: Any) -> list[IngestHook]:
    """The hooks for a worker built from ``settings`` (none until dispatch plugs in)."""
    return []
