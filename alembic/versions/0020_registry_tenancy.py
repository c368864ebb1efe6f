"""registry tenancy: users belong to regencies

Every user acts for one or more regencies (``app_user.kode_kabs``); only an ``admin`` may act
for the whole installation (``kode_kabs`` NULL). The CHECK constraint
``ck_app_user_kode_kabs_unless_admin`` holds it from now on.

Existing rows: a non-admin user without regencies (allowed before this revision, where NULL
meant "every regency") is given every regency present in the installation (``region``), so it
keeps exactly what it could see. In an installation without any region such a user could act on
nothing; it is removed (its sessions and tokens go with it, ``ON DELETE CASCADE``). Downgrade
drops the constraint and leaves the regencies as they are.

Revision ID: 0020_registry_tenancy
Revises: 0019_ha_partitions
"""

from alembic import op

revision = "0020_registry_tenancy"
down_revision = "0019_ha_partitions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        UPDATE app_user
           SET kode_kabs = (SELECT array_agg(kode_kab::text ORDER BY kode_kab) FROM region)
         WHERE role <> 'admin' AND kode_kabs IS NULL
    """)
    op.execute("DELETE FROM app_user WHERE role <> 'admin' AND kode_kabs IS NULL")
    op.execute("ALTER TABLE app_user ADD CONSTRAINT ck_app_user_kode_kabs_unless_admin "
               "CHECK (role = 'admin' OR kode_kabs IS NOT NULL)")


def downgrade() -> None:
    op.drop_constraint("ck_app_user_kode_kabs_unless_admin", "app_user", type_="check")
