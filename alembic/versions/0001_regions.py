"""regions: desa, kecamatan, kabupaten polygons (geo)

Revision ID: 0001_regions
Revises: None
"""

import sqlalchemy as sa  # noqa: F401

from alembic import op  # noqa: F401

revision = "0001_regions"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def downgrade() -> None:
    pass
