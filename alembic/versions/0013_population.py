"""population: figures per kabupaten, kecamatan and desa by year (coverage of the population)

Revision ID: 0013_population
Revises: 0012_cap_notices
"""

import sqlalchemy as sa

from alembic import op

revision = "0013_population"
down_revision = "0012_cap_notices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "population",
        sa.Column("kode", sa.String(13), primary_key=True),
        sa.Column("tahun", sa.Integer(), primary_key=True),
        sa.Column("level", sa.String(9), nullable=False),
        sa.Column("kode_kab", sa.String(5), nullable=False, index=True),
        sa.Column("nama", sa.Text(), nullable=False, server_default=""),
        sa.Column("penduduk", sa.BigInteger(), nullable=False),
        sa.Column("laki_laki", sa.BigInteger()),
        sa.Column("perempuan", sa.BigInteger()),
        sa.Column("sumber", sa.Text(), nullable=False, server_default=""),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("level IN ('kabupaten', 'kecamatan', 'desa')",
                           name="ck_population_level"),
        sa.CheckConstraint("penduduk >= 0", name="ck_population_penduduk"),
    )


def downgrade() -> None:
    op.drop_table("population")
