"""calls attached to existing incidents; WhatsApp as a channel

Revision ID: 0018_call_attach
Revises: 0017_incident_panel

* ``incident_call``: a further call about an incident already recorded (a probable duplicate
  the call taker attached instead of opening a new incident): caller, channel, note, time.
* ``incident.channel`` also accepts ``whatsapp`` (the 112 centres take reports by WhatsApp).
"""

import sqlalchemy as sa

from alembic import op

revision = "0018_call_attach"
down_revision = "0017_incident_panel"
branch_labels = None
depends_on = None

_OLD = ("'phone_112', 'complaint_line', 'social_media', 'walk_in', 'app', 'radio'")
_NEW = _OLD + ", 'whatsapp'"


def _channel_check(values: str) -> None:
    op.execute("ALTER TABLE incident DROP CONSTRAINT ck_incident_channel")
    op.execute(f"ALTER TABLE incident ADD CONSTRAINT ck_incident_channel "
               f"CHECK (channel IN ({values}))")


def upgrade() -> None:
    _channel_check(_NEW)
    op.create_table(
        "incident_call",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kode_kab", sa.String(8), nullable=False, index=True),
        sa.Column("incident_id", sa.Integer(),
                  sa.ForeignKey("incident.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(24), nullable=False),
        sa.Column("caller_phone", sa.String(32)),
        sa.Column("caller_name", sa.Text()),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.CheckConstraint(f"channel IN ({_NEW})", name="ck_incident_call_channel"),
    )


def downgrade() -> None:
    op.drop_table("incident_call")
    op.execute("UPDATE incident SET channel = 'social_media' WHERE channel = 'whatsapp'")
    _channel_check(_OLD)
