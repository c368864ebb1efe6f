"""incident panel: notes, edits, SOP checklists

Revision ID: 0017_incident_panel
Revises: 0016_auth_notify

* ``incident_note``: free-text notes of dispatchers and agency desks on an incident.
* ``sop_step``: the regency's standard operating procedure, one row per step of one
  (category, agency) checklist (``siaga sop import``, ``PUT /api/v1/sop/{kode_kab}``).
* ``sop_check``: a step ticked on one incident, with the step's text as it was then (a later
  SOP import does not rewrite what was done).
"""

import sqlalchemy as sa

from alembic import op

revision = "0017_incident_panel"
down_revision = "0016_auth_notify"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incident_note",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kode_kab", sa.String(8), nullable=False, index=True),
        sa.Column("incident_id", sa.Integer(),
                  sa.ForeignKey("incident.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "sop_step",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kode_kab", sa.String(8), nullable=False, index=True),
        sa.Column("category", sa.String(48), nullable=False),
        sa.Column("agency_code", sa.String(32), nullable=False),
        sa.Column("step_no", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False, server_default=""),
        sa.UniqueConstraint("kode_kab", "category", "agency_code", "step_no",
                            name="uq_sop_step_kab_category_agency_no"),
        sa.CheckConstraint("step_no >= 1", name="ck_sop_step_no"),
    )
    op.create_table(
        "sop_check",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kode_kab", sa.String(8), nullable=False, index=True),
        sa.Column("incident_id", sa.Integer(),
                  sa.ForeignKey("incident.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("category", sa.String(48), nullable=False),
        sa.Column("agency_code", sa.String(32), nullable=False),
        sa.Column("step_no", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("checked_by", sa.Text(), nullable=False),
        sa.Column("checked_at", _TS, nullable=False),
        sa.UniqueConstraint("incident_id", "category", "agency_code", "step_no",
                            name="uq_sop_check_incident_step"),
    )


def downgrade() -> None:
    op.drop_table("sop_check")
    op.drop_table("sop_step")
    op.drop_table("incident_note")
