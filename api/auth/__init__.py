"""Users, roles, login sessions and API tokens (models, service, errors)."""
