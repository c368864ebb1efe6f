"""registry: posts/stations, unit details, tracker provisioning

Revision ID: 0008_registry
Revises: 0007_tenancy

* ``post``: a regency's posts and bases (pos pemadam, markas BPBD, puskesmas, PSC 119 bases...),
  one point each (EPSG:4326); a unit's home post is where it is expected without a fresh fix.
* ``unit.post_id`` (home post), ``unit.crew_size``.
* ``device.protocol`` and the MQTT credential state of a registered tracker.
"""

import sqlalchemy as sa  # noqa: F401

from alembic import op  # noqa: F401

revision = "0008_registry"
down_revision = "0007_tenancy"
branch_labels = None
depends_on = None

POST_KINDS = ("fire_station", "bpbd_base", "puskesmas", "psc119_base", "hospital", "police",
              "other")


def upgrade() -> None:
    kinds = ", ".join(f"'{k}'" for k in POST_KINDS)
    op.execute(f"""
CREATE TABLE post (
    id serial CONSTRAINT pk_post PRIMARY KEY,
    kode_kab varchar(8) NOT NULL,
    agency_code varchar(32) NOT NULL,
    name text NOT NULL,
    kind varchar(32) NOT NULL CONSTRAINT ck_post_kind CHECK (kind IN ({kinds})),
    geom geometry(Point, 4326) NOT NULL,
    address text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_post_kode_kab_name UNIQUE (kode_kab, name)
);
CREATE INDEX ix_post_kode_kab ON post (kode_kab);
CREATE INDEX ix_post_geom ON post USING gist (geom);
ALTER TABLE unit
    ADD COLUMN post_id integer
        CONSTRAINT fk_unit_post_id_post REFERENCES post (id) ON DELETE SET NULL,
    ADD COLUMN crew_size integer CONSTRAINT ck_unit_crew_size CHECK (crew_size BETWEEN 0 AND 99);
CREATE INDEX ix_unit_post_id ON unit (post_id);
ALTER TABLE device
    ADD COLUMN protocol text,
    ADD COLUMN mqtt_provisioned_at timestamptz,
    ADD COLUMN revoked_at timestamptz;
""")


def downgrade() -> None:
    op.execute("""
ALTER TABLE device DROP COLUMN IF EXISTS revoked_at, DROP COLUMN IF EXISTS mqtt_provisioned_at,
    DROP COLUMN IF EXISTS protocol;
DROP INDEX IF EXISTS ix_unit_post_id;
ALTER TABLE unit DROP COLUMN IF EXISTS crew_size, DROP COLUMN IF EXISTS post_id;
DROP TABLE IF EXISTS post;
""")
