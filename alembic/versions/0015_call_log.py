"""call log: calls that did not become incidents (prank, silent, information, wrong number)

Revision ID: 0015_call_log
Revises: 0014_notifications
"""

import sqlalchemy as sa

from alembic import op

revision = "0015_call_log"
down_revision = "0014_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kode_kab", sa.String(8), nullable=False, index=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(24), nullable=False),
        sa.Column("caller_phone", sa.String(32)),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('prank', 'silent', 'information', 'wrong_number', 'dropped')",
            name="ck_call_kind"),
    )


def downgrade() -> None:
    op.drop_table("call_log")
