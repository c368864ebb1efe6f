"""tenancy: the regencies each user and token may act for

Revision ID: 0007_tenancy
Revises: 0006_device_status

``app_user.kode_kabs`` lists the regencies (kabupaten/kota codes) a user acts for; tokens and
sessions carry no copy and are resolved against it on every request, so a change takes effect at
once. ``NULL`` means every regency of the installation (installation administrators).

Existing users at upgrade: administrators stay installation-wide (``NULL``); every other user
gets the regencies present in the ``region`` table at that moment, so a single-regency install
keeps working unchanged and a regency loaded later is not opened to them silently. An
installation without regions yet leaves them ``NULL`` (there is nothing to separate).
"""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision = "0007_tenancy"
down_revision = "0006_device_status"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("kode_kabs", postgresql.ARRAY(sa.Text()), nullable=True))
    op.execute(
        "UPDATE app_user SET kode_kabs = (SELECT array_agg(kode_kab::text ORDER BY kode_kab) "
        "FROM region) WHERE role <> 'admin' AND EXISTS (SELECT 1 FROM region)")
    op.execute("ALTER TABLE app_user ADD CONSTRAINT ck_app_user_kode_kabs_not_empty "
               "CHECK (kode_kabs IS NULL OR cardinality(kode_kabs) > 0)")


def downgrade() -> None:
    op.execute("ALTER TABLE app_user DROP CONSTRAINT ck_app_user_kode_kabs_not_empty")
    op.drop_column("app_user", "kode_kabs")
