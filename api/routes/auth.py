"""Routes for auth (not implemented yet)."""

router = None
