"""The live WebSocket: unit positions, arrivals, SLA and incident events for the console."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect

from api.auth.exceptions import InvalidTokenError
from api.auth.service import resolve_token
from api.live import LiveHub, LiveView
from api.security import Principal, current_principal, token_from_connection
from api.state import AppState

router = APIRouter(tags=["live"])


def _still_valid(state: AppState, token: str, principal: Principal) -> bool:
    """The token still works and its user's role, agency and regencies are unchanged (a
    changed scope ends the stream; the console reconnects with the new one)."""
    with state.sessionmaker() as session:
        try:
            now = resolve_token(session=session, token=token)
        except InvalidTokenError:
            return False
    return (now.role, now.agency_code, now.kode_kabs) == (
        principal.role, principal.agency_code, principal.kode_kabs)


@router.websocket("/api/v1/live")
async def live(ws: WebSocket, principal: Principal = Depends(current_principal)) -> None:
    """Stream live events (batched every ~100 ms) to a logged-in console, filtered by role,
    agency and the user's regencies (``api.live.visible``)."""
    hub: LiveHub | None = ws.app.state.siaga.running.live_hub
    if hub is None:  # the app is not serving (its lifespan has not started)
        await ws.close(code=1013, reason="not ready")
        return
    await ws.accept()
    await ws.send_json({"type": "hello", "username": principal.username,
                        "role": principal.role.value, "window_s": hub.window_s})
    sub = hub.subscribe(LiveView(role=principal.role.value, agency_code=principal.agency_code,
                                 kode_kabs=principal.kode_kabs))

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
        every_s = state.live.recheck_s
        token = token_from_connection(ws) or ""
        while True:
            await asyncio.sleep(every_s)
            if not await asyncio.to_thread(_still_valid, state, token, principal):
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
