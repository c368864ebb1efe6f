"""high availability: partition maintenance

Revision ID: 0019_ha_partitions
Revises: 0018_call_attach

``position`` keeps its daily partitions (``position_pYYYYMMDD``, created on demand by
``tracking_ensure_position_partition`` at a day's first fix, dropped by ``siaga ingest prune``).
pg_partman is not used: its partitions are named ``<table>_pYYYY_MM_DD`` and it would take over
creation and retention that already exist (docs/deployment-ha.md, "Partitions").

What high availability adds is creating the coming days ahead of time, so the DDL (and the
default partition's scan it implies) never runs on the ingest path at midnight, when several
competing ingest workers would queue on the partition lock:
``tracking_premake_position_partitions(days_ahead)`` creates today's and the next ``days_ahead``
days' partitions, runs as its owner (SECURITY DEFINER, fixed search_path) and may be executed by
the application role only; the scheduler (``siaga worker``, one leader) calls it every hour.
"""

import os

import sqlalchemy as sa

from alembic import op

revision = "0019_ha_partitions"
down_revision = "0018_call_attach"
branch_labels = None
depends_on = None

FUNCTION = "tracking_premake_position_partitions(integer)"


def _app_role() -> str:
    role = os.environ.get("SIAGA_APP_ROLE", "siaga_app")
    if not role.replace("_", "").isalnum():
        raise ValueError(f"SIAGA_APP_ROLE must be a plain identifier, not {role!r}")
    return role


def upgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("""
    CREATE FUNCTION tracking_premake_position_partitions(days_ahead integer) RETURNS SETOF text
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        SELECT tracking_ensure_position_partition((now() AT TIME ZONE 'UTC')::date + d)
        FROM generate_series(0, greatest(days_ahead, 0)) AS d
    $$"""))
    conn.execute(sa.text(f"REVOKE EXECUTE ON FUNCTION {FUNCTION} FROM PUBLIC"))
    role = _app_role()
    if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
        conn.execute(sa.text(f'GRANT EXECUTE ON FUNCTION {FUNCTION} TO "{role}"'))


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}")
