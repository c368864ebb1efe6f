"""Routes for agencies (not implemented yet)."""

router = None
