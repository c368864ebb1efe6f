"""regions: desa, kecamatan, kabupaten polygons (geo)

Revision ID: 0001_regions
Revises: None
"""

import sqlalchemy as sa  # noqa: F401

from alembic import op  # noqa: F401

revision = "0001_regions"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute(
        """
        CREATE TABLE region (
            kode_kab     varchar(5) NOT NULL,
            kode_bps_kab varchar(4),
            nama_kab     text NOT NULL,
            jenis        varchar(9) NOT NULL,
            kode_prov    varchar(2),
            nama_prov    text,
            geom         geometry(MultiPolygon, 4326) NOT NULL,
            dissolved    boolean NOT NULL DEFAULT false,
            source_file  text NOT NULL,
            imported_at  timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_region PRIMARY KEY (kode_kab),
            CONSTRAINT ck_region_jenis CHECK (jenis IN ('kabupaten', 'kota')),
            CONSTRAINT ck_region_kode CHECK (kode_kab ~ '^[0-9]{2}\\.[0-9]{2}$')
        )
        """
    )
    op.execute(
        """
        CREATE TABLE kecamatan (
            kode_kec     varchar(8) NOT NULL,
            kode_kab     varchar(5) NOT NULL,
            kode_bps_kec varchar(7),
            nama_kec     text NOT NULL,
            nama_bps_kec text,
            geom         geometry(MultiPolygon, 4326) NOT NULL,
            dissolved    boolean NOT NULL DEFAULT false,
            source_file  text NOT NULL,
            imported_at  timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_kecamatan PRIMARY KEY (kode_kec),
            CONSTRAINT fk_kecamatan_kode_kab_region FOREIGN KEY (kode_kab)
                REFERENCES region (kode_kab) ON DELETE CASCADE,
            CONSTRAINT ck_kecamatan_kode CHECK (kode_kec LIKE kode_kab || '.%')
        )
        """
    )
    op.execute(
        """
        CREATE TABLE desa (
            kode_desa   varchar(13) NOT NULL,
            kode_kab    varchar(5) NOT NULL,
            kode_kec    varchar(8) NOT NULL,
            nama_desa   text NOT NULL,
            jenis       varchar(9) NOT NULL,
            kode_bps    varchar(10),
            nama_bps    text,
            geom        geometry(MultiPolygon, 4326) NOT NULL,
            source_file text NOT NULL,
            imported_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_desa PRIMARY KEY (kode_desa),
            CONSTRAINT fk_desa_kode_kab_region FOREIGN KEY (kode_kab)
                REFERENCES region (kode_kab) ON DELETE CASCADE,
            CONSTRAINT fk_desa_kode_kec_kecamatan FOREIGN KEY (kode_kec)
                REFERENCES kecamatan (kode_kec) ON DELETE CASCADE,
            CONSTRAINT ck_desa_jenis CHECK (jenis IN ('desa', 'kelurahan')),
            CONSTRAINT ck_desa_kode CHECK (kode_desa LIKE kode_kec || '.%')
        )
        """
    )
    for table in ("region", "kecamatan", "desa"):
        op.execute(f"CREATE INDEX ix_{table}_geom ON {table} USING gist (geom)")
    # Geography index: the PostGIS reference geocoder uses ST_DWithin(geom::geography, ...).
    op.execute("CREATE INDEX ix_desa_geog ON desa USING gist ((geom::geography))")
    op.execute("CREATE INDEX ix_kecamatan_kode_kab ON kecamatan (kode_kab)")
    op.execute("CREATE INDEX ix_desa_kode_kab ON desa (kode_kab)")
    op.execute("CREATE INDEX ix_desa_kode_kec ON desa (kode_kec)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS desa")
    op.execute("DROP TABLE IF EXISTS kecamatan")
    op.execute("DROP TABLE IF EXISTS region")
