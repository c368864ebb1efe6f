"""dispatch: agencies, SLA, stations, units, incidents, assignments, audit

Revision ID: 0003_dispatch
Revises: 0002_tracking
"""

import sqlalchemy as sa  # noqa: F401

from alembic import op  # noqa: F401

revision = "0003_dispatch"
down_revision = '0002_tracking'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
