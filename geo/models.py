"""ORM models of the administrative boundaries (tenant = kabupaten/kota code on every row).

``region`` is one kabupaten/kota, ``kecamatan`` and ``desa`` (desa/kelurahan) belong to it.
Codes are Kemendagri (``NN.NN``, ``NN.NN.NN``, ``NN.NN.NN.NNNN``); BPS codes and spellings are kept
alongside when the source has them. Geometries are MultiPolygon, SRID 4326, GiST-indexed. The
schema itself is written by hand in ``alembic/versions/0001_regions.py``.

Other tables should reference ``region.kode_kab`` (never deleted by a re-import) and store desa /
kecamatan codes as plain text: a re-import replaces the desa and kecamatan rows.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import SRID, Base

_GEOM = Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False)


class Region(Base):
    """One kabupaten/kota (the tenant)."""

    __tablename__ = "region"

    kode_kab: Mapped[str] = mapped_column(String(5), primary_key=True)
    kode_bps_kab: Mapped[str | None] = mapped_column(String(4))
    nama_kab: Mapped[str] = mapped_column(Text)
    #: "kabupaten" or "kota"
    jenis: Mapped[str] = mapped_column(String(9))
    kode_prov: Mapped[str | None] = mapped_column(String(2))
    nama_prov: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(_GEOM, nullable=False)
    #: True when the geometry was dissolved from the kecamatan/desa rather than read from a file.
    dissolved: Mapped[bool] = mapped_column(default=False)
    source_file: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_region_geom", "geom", postgresql_using="gist"),)


class Kecamatan(Base):
    __tablename__ = "kecamatan"

    kode_kec: Mapped[str] = mapped_column(String(8), primary_key=True)
    kode_kab: Mapped[str] = mapped_column(
        String(5), ForeignKey("region.kode_kab", ondelete="CASCADE"), index=True
    )
    kode_bps_kec: Mapped[str | None] = mapped_column(String(7))
    nama_kec: Mapped[str] = mapped_column(Text)
    nama_bps_kec: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(_GEOM, nullable=False)
    dissolved: Mapped[bool] = mapped_column(default=False)
    source_file: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_kecamatan_geom", "geom", postgresql_using="gist"),)


class Desa(Base):
    """One desa or kelurahan."""

    __tablename__ = "desa"

    kode_desa: Mapped[str] = mapped_column(String(13), primary_key=True)
    kode_kab: Mapped[str] = mapped_column(
        String(5), ForeignKey("region.kode_kab", ondelete="CASCADE"), index=True
    )
    kode_kec: Mapped[str] = mapped_column(
        String(8), ForeignKey("kecamatan.kode_kec", ondelete="CASCADE"), index=True
    )
    nama_desa: Mapped[str] = mapped_column(Text)
    #: "desa" or "kelurahan"
    jenis: Mapped[str] = mapped_column(String(9))
    kode_bps: Mapped[str | None] = mapped_column(String(10))
    nama_bps: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(_GEOM, nullable=False)
    source_file: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_desa_geom", "geom", postgresql_using="gist"),)


class Population(Base):
    """A population figure of one kabupaten, kecamatan or desa for one year (``population.csv``)."""

    __tablename__ = "population"

    kode: Mapped[str] = mapped_column(String(13), primary_key=True)
    tahun: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: "kabupaten", "kecamatan" or "desa"
    level: Mapped[str] = mapped_column(String(9))
    kode_kab: Mapped[str] = mapped_column(String(5), index=True)
    nama: Mapped[str] = mapped_column(Text, default="")
    penduduk: Mapped[int] = mapped_column(BigInteger)
    laki_laki: Mapped[int | None] = mapped_column(BigInteger)
    perempuan: Mapped[int | None] = mapped_column(BigInteger)
    sumber: Mapped[str] = mapped_column(Text, default="")
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
