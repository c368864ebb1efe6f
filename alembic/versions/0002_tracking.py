"""tracking: devices, positions (partitioned), latest position, rejects

Revision ID: 0002_tracking
Revises: 0001_regions

``position`` is partitioned by RANGE(fix_time) into daily partitions ``position_pYYYYMMDD``
created on demand by ``tracking_ensure_position_partition(day)`` (which moves any rows of that
day out of the DEFAULT partition first), plus ``position_default`` for anything else.
The unique key (device_id, fix_time, seq) includes the partition key and treats NULL seq as
equal (NULLS NOT DISTINCT), so QoS 1 redeliveries of fixes without a sequence number are absorbed.
"""

import sqlalchemy as sa  # noqa: F401

from alembic import op  # noqa: F401

revision = "0002_tracking"
down_revision = '0001_regions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("""
    CREATE TABLE device (
        device_id text NOT NULL,
        kode_kab text,
        label text,
        registered boolean NOT NULL DEFAULT false,
        first_seen_at timestamptz,
        last_seen_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_device PRIMARY KEY (device_id)
    )""")
    op.execute("CREATE INDEX ix_device_kode_kab ON device (kode_kab)")
    op.execute("""
    CREATE TABLE position (
        device_id text NOT NULL,
        fix_time timestamptz NOT NULL,
        seq bigint,
        geom geometry(Point, 4326) NOT NULL,
        speed_mps double precision,
        heading_deg double precision,
        altitude_m double precision,
        hdop double precision,
        accuracy_m double precision,
        satellites integer,
        battery_pct double precision,
        ignition boolean,
        source text NOT NULL DEFAULT 'native',
        flag text,
        received_at timestamptz NOT NULL,
        CONSTRAINT uq_position_device_id_fix_time_seq
            UNIQUE NULLS NOT DISTINCT (device_id, fix_time, seq)
    ) PARTITION BY RANGE (fix_time)""")
    op.execute("CREATE TABLE position_default PARTITION OF position DEFAULT")
    op.execute("""
    CREATE FUNCTION tracking_ensure_position_partition(day date) RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
        part text := 'position_p' || to_char(day, 'YYYYMMDD');
        lo timestamptz := (day::timestamp AT TIME ZONE 'UTC');
        hi timestamptz := ((day + 1)::timestamp AT TIME ZONE 'UTC');
    BEGIN
        IF to_regclass(part) IS NOT NULL THEN
            RETURN part;
        END IF;
        PERFORM pg_advisory_xact_lock(hashtext('tracking_position_partition'));
        IF to_regclass(part) IS NOT NULL THEN
            RETURN part;
        END IF;
        EXECUTE format('CREATE TABLE %I (LIKE position INCLUDING DEFAULTS)', part);
        EXECUTE format('WITH moved AS (DELETE FROM position_default WHERE fix_time >= %L '
                       'AND fix_time < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
                       lo, hi, part);
        EXECUTE format('ALTER TABLE position ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                       part, lo, hi);
        RETURN part;
    END $$""")
    op.execute("""
    CREATE TABLE latest_position (
        device_id text NOT NULL,
        fix_time timestamptz NOT NULL,
        seq bigint,
        geom geometry(Point, 4326) NOT NULL,
        speed_mps double precision,
        heading_deg double precision,
        altitude_m double precision,
        hdop double precision,
        accuracy_m double precision,
        satellites integer,
        battery_pct double precision,
        ignition boolean,
        source text NOT NULL DEFAULT 'native',
        received_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_latest_position PRIMARY KEY (device_id)
    )""")
    op.execute("CREATE INDEX ix_latest_position_geom ON latest_position USING gist (geom)")
    op.execute("""
    CREATE TABLE position_reject (
        id bigserial NOT NULL,
        received_at timestamptz NOT NULL,
        topic text NOT NULL,
        device_id text,
        item_index integer,
        reason text NOT NULL,
        message text NOT NULL,
        message_en text NOT NULL,
        payload bytea NOT NULL,
        payload_text text,
        CONSTRAINT pk_position_reject PRIMARY KEY (id)
    )""")
    op.execute("CREATE INDEX ix_position_reject_received_at ON position_reject (received_at)")
    op.execute("CREATE INDEX ix_position_reject_reason ON position_reject (reason, received_at)")
    op.execute("CREATE INDEX ix_position_reject_device_id ON position_reject (device_id)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS position_reject")
    op.execute("DROP TABLE IF EXISTS latest_position")
    op.execute("DROP TABLE IF EXISTS position CASCADE")
    op.execute("DROP FUNCTION IF EXISTS tracking_ensure_position_partition(date)")
    op.execute("DROP TABLE IF EXISTS device")
