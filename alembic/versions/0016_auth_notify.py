"""auth notify: tell API processes when tokens or users change

Every API process caches the principal of a token (``api/principal_cache.py``) and listens on
channel ``siaga_auth``; these triggers notify it of any update or deletion of a token or a user
(revocation, logout, disabled user, changed role or regencies), whoever makes it.

Revision ID: 0016_auth_notify
Revises: 0015_call_log
"""

from alembic import op

revision = "0016_auth_notify"
down_revision = "0015_call_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE FUNCTION siaga_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('siaga_auth', TG_TABLE_NAME);
            RETURN NULL;
        END $$""")
    for table in ("auth_token", "app_user"):
        op.execute(f"""
            CREATE TRIGGER {table}_notify AFTER UPDATE OR DELETE OR TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION siaga_auth_changed()""")


def downgrade() -> None:
    for table in ("auth_token", "app_user"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_notify ON {table}")
    op.execute("DROP FUNCTION IF EXISTS siaga_auth_changed()")
