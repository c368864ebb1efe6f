"""Routes for live (not implemented yet)."""

router = None
