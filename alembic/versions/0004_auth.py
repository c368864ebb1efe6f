"""auth: users, roles, sessions, API tokens

Revision ID: 0004_auth
Revises: 0003_dispatch
"""

import sqlalchemy as sa  # noqa: F401

from alembic import op  # noqa: F401

revision = "0004_auth"
down_revision = '0003_dispatch'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
