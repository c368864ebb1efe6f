"""cap_notice: CAP 1.2 alerts (such as BMKG's) imported as planner notices

Revision ID: 0012_cap_notices
Revises: 0011_drills
"""

import sqlalchemy as sa  # noqa: F401

from alembic import op  # noqa: F401

revision = "0012_cap_notices"
down_revision = "0011_drills"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE cap_notice (
    id serial CONSTRAINT pk_cap_notice PRIMARY KEY,
    kode_kab varchar(8) NOT NULL,
    identifier text NOT NULL,
    sender text NOT NULL,
    sent timestamptz NOT NULL,
    status varchar(16) NOT NULL,
    msg_type varchar(16) NOT NULL,
    scope varchar(16) NOT NULL,
    language varchar(16) NOT NULL DEFAULT 'en-US',
    event text NOT NULL,
    category text[] NOT NULL DEFAULT '{}',
    urgency varchar(16) NOT NULL,
    severity varchar(16) NOT NULL,
    certainty varchar(16) NOT NULL,
    headline text,
    description text,
    instruction text,
    effective timestamptz,
    onset timestamptz,
    expires timestamptz,
    area_desc text NOT NULL DEFAULT '',
    geom geometry(MultiPolygon, 4326),
    xml text NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now(),
    imported_by text,
    CONSTRAINT uq_cap_notice_kode_kab_sender_identifier UNIQUE (kode_kab, sender, identifier)
);
CREATE INDEX ix_cap_notice_kode_kab_sent ON cap_notice (kode_kab, sent);
CREATE INDEX ix_cap_notice_geom ON cap_notice USING gist (geom);
"""

DOWNGRADE = r"""
DROP TABLE IF EXISTS cap_notice;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
