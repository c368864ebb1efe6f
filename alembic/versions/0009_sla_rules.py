"""sla rules: the Perbup agency/SLA matrix per regency by effective date; complaint follow-up

Revision ID: 0009_sla_rules
Revises: 0008_registry
"""

import sqlalchemy as sa  # noqa: F401

from alembic import op  # noqa: F401

revision = "0009_sla_rules"
down_revision = "0008_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
