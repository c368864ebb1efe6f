"""drills: incidents and exercises marked as latihan

Revision ID: 0011_drills
Revises: 0010_audit_chain
"""

import sqlalchemy as sa  # noqa: F401

from alembic import op  # noqa: F401

revision = "0011_drills"
down_revision = "0010_audit_chain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
