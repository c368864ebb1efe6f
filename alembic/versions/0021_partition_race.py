"""A day's ``position`` partition created by two sessions at once.

``tracking_ensure_position_partition`` re-checks ``to_regclass`` after taking its advisory lock,
but an advisory lock does not refresh the session's catalog snapshot: the second of two competing
ingest workers at a new UTC day still saw no partition after the first had committed it, and its
``CREATE TABLE`` failed with ``duplicate_table``, which sent the whole batch down the per-row
isolation path. The creation now runs in a block that treats ``duplicate_table`` as "another
session made it" (it was committed whole: created, rows moved, attached). Same owner, same
SECURITY DEFINER and search_path as migration 0010 set.
"""

from alembic import op

revision = "0021_partition_race"
down_revision = "0020_registry_tenancy"
branch_labels = None
depends_on = None

_HEAD = """
CREATE OR REPLACE FUNCTION tracking_ensure_position_partition(day date) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
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
"""
_CREATE = """
        EXECUTE format('CREATE TABLE %I (LIKE position INCLUDING DEFAULTS)', part);
        EXECUTE format('WITH moved AS (DELETE FROM position_default WHERE fix_time >= %L '
                       'AND fix_time < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
                       lo, hi, part);
        EXECUTE format('ALTER TABLE position ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                       part, lo, hi);
"""


def upgrade() -> None:
    op.execute(_HEAD + "    BEGIN" + _CREATE + """    EXCEPTION WHEN duplicate_table THEN
        NULL;  -- committed whole by a competing session after our catalog snapshot
    END;
    RETURN part;
END $$""")


def downgrade() -> None:
    op.execute(_HEAD + _CREATE + """    RETURN part;
END $$""")
