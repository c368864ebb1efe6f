"""incident panel: notes, edits, SOP checklists

Revision ID: 0017_incident_panel
Revises: 0016_auth_notify
"""

revision = "0017_incident_panel"
down_revision = "0016_auth_notify"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
