"""Routes for geocode (not implemented yet)."""

router = None
