"""notifications: OPD standby-line channels (webhook, email, SMS) and their delivery records

Revision ID: 0014_notifications
Revises: 0013_population
"""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision = "0014_notifications"
down_revision = "0013_population"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agency_channel",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kode_kab", sa.String(8), nullable=False, index=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text()),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('webhook', 'email', 'sms')", name="ck_channel_kind"),
        sa.UniqueConstraint("agency_id", "kind", "target", name="uq_channel_target"),
    )
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kode_kab", sa.String(8), nullable=False, index=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("channel_id", sa.Integer(),
                  sa.ForeignKey("agency_channel.id", ondelete="CASCADE"), nullable=False),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id", ondelete="CASCADE"),
                  index=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), index=True),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')",
                           name="ck_notification_status"),
    )


def downgrade() -> None:
    op.drop_table("notification")
    op.drop_table("agency_channel")
