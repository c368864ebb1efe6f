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

UPGRADE = r"""
CREATE TABLE exercise (
    id serial CONSTRAINT pk_exercise PRIMARY KEY,
    kode_kab varchar(8) NOT NULL,
    name text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz,
    created_by text,
    CONSTRAINT ck_exercise_ended_after_started CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX ix_exercise_kode_kab ON exercise (kode_kab);

ALTER TABLE incident ADD COLUMN drill boolean NOT NULL DEFAULT false;
ALTER TABLE incident ADD COLUMN exercise_id integer
    CONSTRAINT fk_incident_exercise_id_exercise REFERENCES exercise (id) ON DELETE SET NULL;
-- an incident of an exercise is always a drill
ALTER TABLE incident ADD CONSTRAINT ck_incident_exercise_is_drill
    CHECK (exercise_id IS NULL OR drill);
CREATE INDEX ix_incident_exercise_id ON incident (exercise_id);
CREATE INDEX ix_incident_drill ON incident (kode_kab) WHERE drill;
"""

DOWNGRADE = r"""
DROP INDEX IF EXISTS ix_incident_drill;
DROP INDEX IF EXISTS ix_incident_exercise_id;
ALTER TABLE incident DROP CONSTRAINT IF EXISTS ck_incident_exercise_is_drill;
ALTER TABLE incident DROP COLUMN IF EXISTS exercise_id;
ALTER TABLE incident DROP COLUMN IF EXISTS drill;
DROP TABLE IF EXISTS exercise;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
