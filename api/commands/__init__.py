"""Command groups of the ``siaga`` CLI."""
