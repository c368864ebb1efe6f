"""Routes for tracking (not implemented yet)."""

router = None
