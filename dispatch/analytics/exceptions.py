"""Errors raised by the planner analytics (``dispatch.analytics``).

Hierarchy::

    DispatchValidationError (dispatch.exceptions)
    └── AnalyticsInputError     inputs an analysis cannot use (too few areas, shapes that do not
                                match, an infeasible siting question); nothing was computed

Messages are complete sentences (Bahasa Indonesia first, English after " / ");
``api/errors.py`` maps the base class to HTTP 422.
"""

from __future__ import annotations

from dispatch.exceptions import DispatchValidationError


class AnalyticsInputError(DispatchValidationError):
    """The data or parameters given to an analysis cannot produce a meaningful answer."""
