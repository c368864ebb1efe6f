"""Routes for incidents (not implemented yet)."""

router = None
