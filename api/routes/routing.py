"""Routes for routing (not implemented yet)."""

router = None
