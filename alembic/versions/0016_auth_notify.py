"""auth notify: tell API processes when tokens or users change

Revision ID: 0016_auth_notify
Revises: 0015_call_log
"""

revision = "0016_auth_notify"
down_revision = "0015_call_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
