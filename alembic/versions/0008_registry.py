"""registry: posts/stations, unit details, tracker provisioning

Revision ID: 0008_registry
Revises: 0007_tenancy
"""

import sqlalchemy as sa  # noqa: F401

from alembic import op  # noqa: F401

revision = "0008_registry"
down_revision = "0007_tenancy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
