"""device status: last-seen state of trackers that report without a GPS fix

Revision ID: 0006_device_status
Revises: 0005_login_throttle
"""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision = "0006_device_status"
down_revision = "0005_login_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("device", sa.Column("last_status_at", sa.DateTime(timezone=True)))
    op.add_column("device", sa.Column("last_status_reason", sa.Text()))
    op.add_column("device", sa.Column("last_cells", postgresql.JSONB()))
    op.add_column("device", sa.Column("last_wifi_count", sa.Integer()))


def downgrade() -> None:
    for column in ("last_wifi_count", "last_cells", "last_status_reason", "last_status_at"):
        op.drop_column("device", column)
