"""tenancy: the regencies each user and token may act for

Revision ID: 0007_tenancy
Revises: 0006_device_status
"""

import sqlalchemy as sa  # noqa: F401

from alembic import op  # noqa: F401

revision = "0007_tenancy"
down_revision = "0006_device_status"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
