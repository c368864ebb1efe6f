"""calls attached to existing incidents

Revision ID: 0018_call_attach
Revises: 0017_incident_panel
"""

revision = "0018_call_attach"
down_revision = "0017_incident_panel"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
