"""login throttle: failed-login counters shared by every API instance

Revision ID: 0005_login_throttle
Revises: 0004_auth
"""

import sqlalchemy as sa

from alembic import op

revision = "0005_login_throttle"
down_revision = "0004_auth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        # "acct:<username>|<address>" or "addr:<address>" (see api/auth/throttle.py)
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_login_throttle"),
        sa.CheckConstraint("failures >= 0", name="ck_login_throttle_failures"),
    )
    op.create_index("ix_login_throttle_last_failure_at", "login_throttle", ["last_failure_at"])


def downgrade() -> None:
    op.drop_index("ix_login_throttle_last_failure_at", table_name="login_throttle")
    op.drop_table("login_throttle")
