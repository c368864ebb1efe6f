"""The live WebSocket: unit positions, arrivals, SLA and incident events for the console."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect

from api.auth.exceptions import InvalidTokenError
from api.auth.service import resolve_token
from api.live import EVENTS_TOPIC, LiveHub, LiveView, MqttEventSource
from api.live_scope import DbAgencyScope
from api.security import Principal, current_principal, token_from_connection
from api.state import AppState

router = APIRouter(tags=["live"])


async def startup(state: AppState) -> None:
    """Start the hub and the MQTT subscriber (topic overridable via ``resources['live_topic']``).

    Also provides ``resources['publish_events']`` (unless set already): the sink the dispatch
    routes hand their domain events to, published on ``siaga/v1/events/{kind}``.
    """
    hub = LiveHub(window_s=float(state.resources.get("live_window_s", 0.1)),
                  scope=DbAgencyScope(state.sessionmaker))
    hub.start()
    source = MqttEventSource(state.settings.mqtt_url, hub,
                             topic=state.resources.get("live_topic", EVENTS_TOPIC))
    source.start()
    state.resources["live_hub"] = hub
    state.resources["live_source"] = source
    # Domain events of the dispatch routes go to the broker (and so to every API instance).
    state.resources.setdefault("publish_events", source.publish)


async def shutdown(state: AppState) -> None:
    source = state.resources.pop("live_source", None)
    if source is not None:
        await asyncio.to_thread(source.stop)
    hub = state.resources.pop("live_hub", None)
    if hub is not None:
        await hub.stop()


def _still_valid(state: AppState, token: str) -> bool:
    with state.sessionmaker() as session:
        try:
            resolve_token(session=session, token=token)
            return True
        except InvalidTokenError:
            return False


@router.websocket("/api/v1/live")
async def live(ws: WebSocket, principal: Principal = Depends(current_principal)) -> None:
    """Stream live events (batched every ~100 ms) to a logged-in console, filtered by role
    and agency (``api.live.visible``)."""
    hub: LiveHub = ws.app.state.siaga.resources["live_hub"]
    await ws.accept()
    await ws.send_json({"type": "hello", "username": principal.username,
                        "role": principal.role.value, "window_s": hub.window_s})
    sub = hub.subscribe(LiveView(role=principal.role.value, agency_code=principal.agency_code))

    async def pump() -> None:
        while True:
            await ws.send_text(await sub.queue.get())

    async def drain_client() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await ws.receive_text()

    async def watch_session() -> None:
        """Close the stream once the session expires or is revoked (checked periodically)."""
        state = ws.app.state.siaga
        every_s = float(state.resources.get("live_recheck_s", 30.0))
        token = token_from_connection(ws) or ""
        while True:
            await asyncio.sleep(every_s)
            if not await asyncio.to_thread(_still_valid, state, token):
                await ws.close(code=1008, reason="session ended")
                return

    tasks = [asyncio.create_task(pump()), asyncio.create_task(drain_client()),
             asyncio.create_task(watch_session())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        hub.unsubscribe(sub)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
