"""registry tenancy: users belong to regencies

Revision ID: 0020_registry_tenancy
Revises: 0019_ha_partitions
"""

revision = "0020_registry_tenancy"
down_revision = "0019_ha_partitions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
