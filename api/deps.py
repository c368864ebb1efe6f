"""FastAPI dependencies: the app state and a unit-of-work session per request."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from api.state import AppState


def get_state(request: Request) -> AppState:
    return request.app.state.siaga


def get_session(request: Request) -> Iterator[Session]:
    """A session committed when the handler returns normally, rolled back otherwise."""
    state: AppState = request.app.state.siaga
    session = state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
