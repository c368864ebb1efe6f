"""Routes for regions (not implemented yet)."""

router = None
