"""Routes for maps (not implemented yet)."""

router = None
