"""Composition root: settings, the FastAPI app, the ``siaga`` command line and workers."""
