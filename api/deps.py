"""FastAPI dependencies: the app state and a unit-of-work session per request.

A request's session is committed **before the response is sent**. In current FastAPI the code
after ``yield`` in a dependency runs after the response has gone out, unless the dependency is
declared with ``Depends(..., scope="function")``: then it runs as soon as the handler has
returned and its result is serialised, before the reply. :func:`get_session` (what routers
declare with ``Depends(get_session)``) takes the request's session from :func:`_session_scope`,
declared here with that scope, so every route commits and returns its pooled connection before
the client sees the answer: a client that got a 2xx can read what it wrote.

The commit (or rollback) runs on a thread of its own, not one of the shared worker pool: a
request holding a connection never waits for a worker thread that may itself be waiting for a
connection. Handlers that publish events commit explicitly first (``session.commit()``), then
publish; the teardown's commit is then a no-op.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.state import AppState


def get_state(request: Request) -> AppState:
    return request.app.state.siaga


def _finish(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def _session_scope(request: Request) -> AsyncIterator[Session]:
    """A session committed when the handler returns normally, rolled back otherwise."""
    state: AppState = request.app.state.siaga
    session = state.sessionmaker()  # no connection is taken before the first query
    # A fresh limiter per request: the teardown never queues behind the shared worker threads.
    own_thread = anyio.CapacityLimiter(1)
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_finish, session, False, limiter=own_thread)
        raise
    await anyio.to_thread.run_sync(_finish, session, True, limiter=own_thread)


async def get_session(
    session: Session = Depends(_session_scope, scope="function"),  # noqa: B008
) -> Session:
    """The request's unit-of-work session, committed before the response (see module doc)."""
    return session
