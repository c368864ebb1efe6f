"""Posts and bases of a regency (pos pemadam, markas BPBD, puskesmas, PSC 119 bases): storage.

Functions take ``*, session`` and a :class:`~dispatch.scope.Scope`, never commit, and see only the
scope's regencies (a post of another regency is "not found"). Imports are checked whole before
anything is written: every row must be of a regency (and, for an agency desk, the agency) the
caller acts for, and its agency must exist in that regency; otherwise the file is refused.
Geometries are EPSG:4326 points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.incident_records import point_of, to_geom
from dispatch.models import Agency, Post
from dispatch.registry_errors import PostNotFound
from dispatch.registry_fields import PostRow, RegistryFileError
from dispatch.scope import Scope
from dispatch.scoping import kab_condition
from geo.types import LonLat


@dataclass
class ImportReport:
    """What an import changed (``created`` and ``updated`` are names or call signs)."""

    kind: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated)


def post_condition(scope: Scope):
    """Posts of the scope's regencies (and, for an agency desk, of its agency)."""
    cond = kab_condition(Post.kode_kab, scope)
    if scope.agency_code is not None:
        cond = cond & (Post.agency_code == scope.agency_code)
    return cond


def lock_regencies(session: Session, kode_kabs: set[str]) -> None:
    """Serialise registry imports per regency (transaction advisory locks, in code order), so
    two imports of one regency never race on the same new names."""
    for kode in sorted(kode_kabs):
        session.execute(select(func.pg_advisory_xact_lock(
            func.hashtextextended(f"siaga-registry:{kode}", 0))))


def scope_problems(rows: Sequence[PostRow] | Sequence, scope: Scope) -> list[tuple[int, str, str]]:
    """Rows of a regency or agency the caller may not act for (one problem per row)."""
    problems = []
    for r in rows:
        if not scope.allows(r.kode_kab):
            problems.append((r.row, f"kabupaten/kota {r.kode_kab} di luar wewenang Anda",
                             f"regency {r.kode_kab} is outside your scope"))
        elif not scope.allows_agency(r.agency):
            problems.append((r.row, f"instansi {r.agency} bukan instansi Anda",
                             f"agency {r.agency} is not yours"))
    return problems


def agency_problems(session: Session, rows: Sequence) -> list[tuple[int, str, str]]:
    """Rows whose agency is not configured in their regency."""
    pairs = {(r.kode_kab, r.agency) for r in rows}
    known = set() if not pairs else {tuple(row) for row in session.execute(
        select(Agency.kode_kab, Agency.code).where(
            tuple_(Agency.kode_kab, Agency.code).in_(sorted(pairs)))).all()}
    return [(r.row, f"instansi {r.agency} tidak terdaftar di {r.kode_kab} (jalankan "
                    f"'siaga dispatch seed' dulu)",
             f"agency {r.agency} is not configured in {r.kode_kab} (run 'siaga dispatch seed' "
             f"first)") for r in rows if (r.kode_kab, r.agency) not in known]


def import_posts(session: Session, rows: Sequence[PostRow], *, scope: Scope, actor: str,
                 now: datetime, what: str = "posts file") -> ImportReport:
    """Create or update the posts of a validated file (matched on regency + name), or refuse
    the whole file with :class:`RegistryFileError` (nothing is written)."""
    problems = scope_problems(rows, scope)
    if problems:  # say nothing more about regencies the caller may not see
        raise RegistryFileError(problems, what=what)
    problems = agency_problems(session, rows)
    if problems:
        raise RegistryFileError(problems, what=what)
    lock_regencies(session, {r.kode_kab for r in rows})
    existing = {(p.kode_kab, p.name.casefold()): p for p in session.scalars(
        select(Post).where(Post.kode_kab.in_(sorted({r.kode_kab for r in rows})))
        .with_for_update())} if rows else {}
    report = ImportReport("posts")
    for r in rows:
        post = existing.get((r.kode_kab, r.name.casefold()))
        if post is None:
            post = Post(kode_kab=r.kode_kab, name=r.name)
            session.add(post)
            report.created.append(r.name)
        else:
            report.updated.append(r.name)
        post.name, post.agency_code, post.kind, post.address = r.name, r.agency, r.kind, r.address
        post.geom, post.updated_at = to_geom(LonLat(r.lon, r.lat)), now
    session.flush()
    for kode in sorted({r.kode_kab for r in rows}):
        names = [r.name for r in rows if r.kode_kab == kode]
        audit.record(session, actor=actor, at=now, entity="post", entity_id=None,
                     action="import", after={"posts": names}, kode_kab=kode)
    return report


def list_posts(session: Session, *, scope: Scope, kode_kab: str | None = None) -> list[Post]:
    stmt = select(Post).where(post_condition(scope))
    if kode_kab is not None:
        stmt = stmt.where(Post.kode_kab == kode_kab)
    return list(session.scalars(stmt.order_by(Post.kode_kab, Post.name)))


def get_post(session: Session, post_id: int, *, scope: Scope) -> Post:
    post = session.scalars(select(Post).where(Post.id == post_id, post_condition(scope))).first()
    if post is None:
        raise PostNotFound(f"Pos {post_id} tidak ditemukan / post {post_id} not found.")
    return post


def post_row(post: Post) -> PostRow:
    point = point_of(post.geom)
    assert point is not None
    return PostRow(row=0, kode_kab=post.kode_kab, agency=post.agency_code, name=post.name,
                   kind=post.kind, lon=point.lon, lat=point.lat, address=post.address or "")


def post_rows(session: Session, *, scope: Scope, kode_kab: str | None = None) -> list[PostRow]:
    """The scope's posts as file rows (for export)."""
    return [post_row(p) for p in list_posts(session, scope=scope, kode_kab=kode_kab)]


def post_ids_by_name(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(kode_kab, casefolded name) → post id, for the given keys that exist."""
    if not keys:
        return {}
    kodes = sorted({k for k, _ in keys})
    rows = session.execute(select(Post.id, Post.kode_kab, func.lower(Post.name), Post.name)
                           .where(Post.kode_kab.in_(kodes)))
    return {(kode, name.casefold()): pid for pid, kode, _, name in rows
            if (kode, name.casefold()) in keys}
