"""The API's process-wide state: the typed :class:`api.services.Services` of the composition root.

``AppState`` is the name handlers use for it (``state: AppState = Depends(get_state)``).
"""

from __future__ import annotations

from api.services import Services

AppState = Services

__all__ = ["AppState"]
