"""audit chain: hash-chained audit log and the application role

Revision ID: 0010_audit_chain
Revises: 0009_sla_rules
"""

import sqlalchemy as sa  # noqa: F401

from alembic import op  # noqa: F401

revision = "0010_audit_chain"
down_revision = "0009_sla_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
