"""Routes for units (not implemented yet)."""

router = None
