"""tracking: devices, positions (partitioned), latest position, rejects

Revision ID: 0002_tracking
Revises: 0001_regions
"""

import sqlalchemy as sa  # noqa: F401

from alembic import op  # noqa: F401

revision = "0002_tracking"
down_revision = '0001_regions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
