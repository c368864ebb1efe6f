"""high availability: partition maintenance

Revision ID: 0019_ha_partitions
Revises: 0018_call_attach
"""

revision = "0019_ha_partitions"
down_revision = "0018_call_attach"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
