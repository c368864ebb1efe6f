"""audit chain: hash-chained audit log and the application role

Revision ID: 0010_audit_chain
Revises: 0009_sla_rules

* ``audit_chain``: one link per audit entry (``dispatch.chain``), append-only like ``audit_log``;
  the entries already present are chained here in id order.
* The application role (``$SIAGA_APP_ROLE``, default ``siaga_app``) owns nothing: it may read and
  write the tables of this schema (also those created by later migrations, through default
  privileges of the role running the migrations) but only SELECT and INSERT the audit log and
  the chain. The role is created NOLOGIN when missing and the migrating role may create roles;
  ``scripts/services.sh`` or ``siaga db app-role`` gives it LOGIN.
* ``tracking_ensure_position_partition`` becomes SECURITY DEFINER, so the ingest worker, running
  as the application role, still creates a day's partition (owned by the owner). Dropping old
  partitions (``siaga ingest prune``) runs as the owner.
"""

import os

import sqlalchemy as sa

from alembic import op
from dispatch.chain import ENTRY_FIELDS, GENESIS, extend

revision = "0010_audit_chain"
down_revision = "0009_sla_rules"
branch_labels = None
depends_on = None

AUDIT_TABLES = ("audit_log", "audit_chain")
PARTITION_FUNCTION = "tracking_ensure_position_partition(date)"

UPGRADE = r"""
CREATE TABLE audit_chain (
    seq bigint CONSTRAINT pk_audit_chain PRIMARY KEY CONSTRAINT ck_audit_chain_seq CHECK (seq > 0),
    audit_id bigint NOT NULL CONSTRAINT uq_audit_chain_audit_id UNIQUE,
    prev_hash varchar(64) NOT NULL,
    entry_hash varchar(64) NOT NULL,
    chained_at timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION audit_chain_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_chain is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_chain_no_update_delete BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION audit_chain_append_only();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_append_only();
"""


def app_role() -> str:
    role = os.environ.get("SIAGA_APP_ROLE", "siaga_app")
    if not role.replace("_", "").isalnum():
        raise ValueError(f"SIAGA_APP_ROLE must be a plain identifier, not {role!r}")
    return role


def _chain_existing(conn: sa.Connection) -> None:
    cols = ", ".join(ENTRY_FIELDS)
    rows = [dict(r._mapping) for r in conn.execute(sa.text(
        f"SELECT {cols} FROM audit_log ORDER BY id"))]
    links = extend(0, GENESIS, rows)
    if links:
        conn.execute(sa.text("INSERT INTO audit_chain (seq, audit_id, prev_hash, entry_hash) "
                             "VALUES (:seq, :audit_id, :prev_hash, :entry_hash)"),
                     [{"seq": k.seq, "audit_id": k.audit_id, "prev_hash": k.prev_hash,
                       "entry_hash": k.entry_hash} for k in links])


def _ensure_role(conn: sa.Connection, role: str) -> bool:
    exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if exists:
        return True
    can_create = conn.execute(sa.text(
        "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")).scalar()
    if not can_create:
        print(f"note: role {role} does not exist and cannot be created here; "
              "grant it later with scripts/services.sh or by hand (docs/evidence.md)")
        return False
    # Another database of the same cluster may be migrated at the same time.
    conn.execute(sa.text(f'DO $$ BEGIN CREATE ROLE "{role}" NOLOGIN; '
                         "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"))
    return True


def _grant(conn: sa.Connection, role: str) -> None:
    db = conn.execute(sa.text("SELECT current_database()")).scalar()
    for sql in (
        f'GRANT CONNECT, TEMPORARY ON DATABASE "{db}" TO "{role}"',
        f'GRANT USAGE ON SCHEMA public TO "{role}"',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"',
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}"',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO "{role}"',
    ):
        conn.execute(sa.text(sql))
    for table in AUDIT_TABLES:
        conn.execute(sa.text(f'REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {table} '
                             f'FROM PUBLIC, "{role}"'))
    # The ingest worker creates a day's position partition when its first fix arrives: the
    # function runs with its owner's rights (the partition belongs to the owner, and the
    # default privileges above give the application role its rows).
    conn.execute(sa.text(f"ALTER FUNCTION {PARTITION_FUNCTION} SECURITY DEFINER "
                         "SET search_path = public, pg_temp"))
    conn.execute(sa.text(f"REVOKE EXECUTE ON FUNCTION {PARTITION_FUNCTION} FROM PUBLIC"))
    conn.execute(sa.text(f'GRANT EXECUTE ON FUNCTION {PARTITION_FUNCTION} TO "{role}"'))


def upgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text(UPGRADE))
    _chain_existing(conn)
    role = app_role()
    if _ensure_role(conn, role):
        _grant(conn, role)


def downgrade() -> None:
    conn = op.get_bind()
    role = app_role()
    if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
        conn.execute(sa.text("ALTER DEFAULT PRIVILEGES IN SCHEMA public "
                             f'REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM "{role}"'))
        conn.execute(sa.text("ALTER DEFAULT PRIVILEGES IN SCHEMA public "
                             f'REVOKE USAGE, SELECT ON SEQUENCES FROM "{role}"'))
        conn.execute(sa.text(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"'))
        conn.execute(sa.text(f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM "{role}"'))
    conn.execute(sa.text(f"ALTER FUNCTION {PARTITION_FUNCTION} SECURITY INVOKER RESET ALL"))
    conn.execute(sa.text(f"GRANT EXECUTE ON FUNCTION {PARTITION_FUNCTION} TO PUBLIC"))
    conn.execute(sa.text("DROP TABLE IF EXISTS audit_chain; "
                         "DROP FUNCTION IF EXISTS audit_chain_append_only();"))
