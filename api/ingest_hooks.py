"""Hooks the ingest worker runs after each committed batch of fixes (wired in ``siaga ingest``).

Each hook is ``hook(session, fixes) -> list[event]`` where an event is ``(topic, payload_dict)``
to publish on MQTT. The ingest worker lives in ``tracking`` and knows nothing of dispatch; this
composition-root module is where dispatch's arrival verification is plugged in: for every active
assignment whose unit's tracker appears in the batch, the track since dispatch is checked against
the incident geofence and ``siaga/v1/events/arrival`` events are returned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

IngestHook = Callable[[Any, Sequence[Any]], list[tuple[str, dict]]]


def arrival_verification_hook(config: Any) -> IngestHook:
    """A hook running :func:`dispatch.verification.verify_arrivals` with ``config``."""
    from dispatch.verification import verify_arrivals

    def hook(session: Any, fixes: Sequence[Any]) -> list[tuple[str, dict]]:
        return [e.as_message() for e in verify_arrivals(session, fixes, config=config)]

    hook.__name__ = "arrival_verification"
    return hook


def ingest_hooks(settings: Any) -> list[IngestHook]:
    """The hooks for a worker built from ``settings``: GPS arrival verification."""
    from dispatch.config import load_config

    config = load_config(getattr(settings, "agencies_path", None))
    return [arrival_verification_hook(config)]
