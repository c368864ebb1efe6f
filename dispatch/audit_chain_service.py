"""Reading the audit hash chain back: whole-chain verification and the monthly chain head.

The chain covers every regency of the installation in one sequence, so both operations need the
unrestricted scope (the operator's tools); a regency-scoped caller is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.chain import ENTRY_FIELDS, GENESIS, ChainReport, Link, check_chain
from dispatch.exceptions import DispatchValidationError
from dispatch.models import AuditChain, AuditLog
from dispatch.scope import Scope

_BATCH = 5000


def _require_everything(scope: Scope) -> None:
    if not scope.unrestricted:
        raise DispatchValidationError(
            "Rantai audit mencakup semua kabupaten/kota; hanya operator instalasi yang dapat "
            "memeriksanya / the audit chain spans every regency; only the installation's "
            "operator can check it.")


def verify_chain(session: Session, *, scope: Scope) -> ChainReport:
    """Recompute the whole chain from the stored links and audit entries (see
    :func:`dispatch.chain.check_chain`)."""
    _require_everything(scope)
    audit.seal(session)
    links = [Link(seq=int(r.seq), audit_id=int(r.audit_id), prev_hash=r.prev_hash,
                  entry_hash=r.entry_hash)
             for r in session.execute(select(AuditChain.seq, AuditChain.audit_id,
                                             AuditChain.prev_hash, AuditChain.entry_hash)
                                      .execution_options(yield_per=_BATCH))]
    columns = [getattr(AuditLog, name) for name in ENTRY_FIELDS]
    entries = {int(row[0]): dict(zip(ENTRY_FIELDS, row, strict=True))
               for row in session.execute(select(*columns).execution_options(yield_per=_BATCH))}
    return check_chain(links, entries)


def parse_month(month: str) -> tuple[datetime, datetime]:
    """``YYYY-MM`` as the UTC interval ``[first day, first day of the next month)``."""
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise DispatchValidationError(
            f"Bulan harus berbentuk YYYY-MM, bukan {month!r} / the month must be YYYY-MM, "
            f"not {month!r}.") from None
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else \
        start.replace(month=start.month + 1)
    return start, end


def month_head(session: Session, month: str, *, scope: Scope) -> tuple[int, str]:
    """``(seq, entry_hash)`` of the last link chained before the end of ``month`` (UTC), or
    ``(0, GENESIS)`` when nothing was chained by then."""
    _require_everything(scope)
    _, end = parse_month(month)
    row = session.execute(select(AuditChain.seq, AuditChain.entry_hash)
                          .where(AuditChain.chained_at < end)
                          .order_by(AuditChain.seq.desc()).limit(1)).first()
    if row is None:
        return 0, GENESIS
    return int(row[0]), str(row[1])


def link_at(session: Session, seq: int, *, scope: Scope) -> str | None:
    """The stored ``entry_hash`` of link ``seq``, or ``None``."""
    _require_everything(scope)
    return session.scalar(select(AuditChain.entry_hash).where(AuditChain.seq == seq))
