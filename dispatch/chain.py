"""The audit hash chain (pure): canonical entry text, link hashes and the chain check.

Every audit entry gets one *link* at position ``seq`` (1, 2, 3 ... with no gaps). A link stores
the hash of the previous link (``prev_hash``; :data:`GENESIS` for the first) and its own
``entry_hash``::

    entry_hash = SHA-256( prev_hash "\\n" canonical(seq, audit entry) )

``canonical`` is JSON with sorted keys, no whitespace, UTF-8, times as ISO 8601 UTC with
microseconds. Changing, deleting or reordering any entry or link changes a hash that a later link
(or the recomputation) no longer agrees with; :func:`check_chain` names the first such place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

#: ``prev_hash`` of the first link.
GENESIS = "0" * 64
#: The audit entry's fields that the hash covers, in the order of the audit_log table.
ENTRY_FIELDS = ("id", "kode_kab", "actor", "at", "entity", "entity_id", "action", "before",
                "after")


@dataclass(frozen=True)
class Link:
    """One stored chain link: position, the audit entry it covers, the two hashes."""

    seq: int
    audit_id: int
    prev_hash: str
    entry_hash: str


@dataclass(frozen=True)
class Finding:
    """The first place where the chain does not hold.

    ``kind`` is one of ``edited`` (an entry differs from what was chained), ``deleted`` (a
    chained entry or link is gone), ``reordered`` (links out of order), ``broken`` (a link's
    ``prev_hash`` matches no link), ``unchained`` (an entry that no link covers).
    """

    kind: str
    seq: int | None
    audit_id: int | None
    message: str


@dataclass(frozen=True)
class ChainReport:
    """Result of :func:`check_chain`: links checked, the head, the first finding if any."""

    links: int
    entries: int
    head_seq: int
    head_hash: str
    finding: Finding | None

    @property
    def ok(self) -> bool:
        return self.finding is None


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    return value


def canonical_entry(seq: int, entry: Mapping[str, Any]) -> str:
    """The canonical text of one audit entry at chain position ``seq``."""
    body = {name: _plain(entry.get(name)) for name in ENTRY_FIELDS}
    body["seq"] = seq
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def link_hash(prev_hash: str, seq: int, entry: Mapping[str, Any]) -> str:
    """Hex SHA-256 of ``prev_hash``, a newline and :func:`canonical_entry`."""
    text = prev_hash + "\n" + canonical_entry(seq, entry)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def extend(head_seq: int, head_hash: str,
           entries: Iterable[Mapping[str, Any]]) -> list[Link]:
    """Links for ``entries`` (in the given order) appended after the head."""
    links = []
    seq, prev = head_seq, head_hash
    for entry in entries:
        seq += 1
        digest = link_hash(prev, seq, entry)
        links.append(Link(seq=seq, audit_id=int(entry["id"]), prev_hash=prev, entry_hash=digest))
        prev = digest
    return links


def check_chain(links: Iterable[Link], entries: Mapping[int, Mapping[str, Any]]) -> ChainReport:
    """Recompute the chain over ``links`` (any order) and the audit ``entries`` by id.

    Returns the first disagreement in chain order: a missing position, a ``prev_hash`` that is
    not the previous link's hash, a covered entry that is gone or differs, and last any entry
    that no link covers.
    """
    ordered = sorted(links, key=lambda link: link.seq)
    by_hash = {link.entry_hash: link for link in ordered}
    expected_seq, prev = 1, GENESIS
    covered: set[int] = set()
    finding: Finding | None = None
    for link in ordered:
        covered.add(link.audit_id)
        if finding is not None:
            continue
        if link.seq != expected_seq:
            finding = Finding("deleted", expected_seq, None,
                              f"link {expected_seq} is missing (next present: {link.seq})")
        elif link.prev_hash != prev:
            earlier = by_hash.get(link.prev_hash)
            if earlier is not None:
                finding = Finding("reordered", link.seq, link.audit_id,
                                  f"link {link.seq} follows link {earlier.seq}, not "
                                  f"{link.seq - 1}")
            else:
                finding = Finding("broken", link.seq, link.audit_id,
                                  f"link {link.seq}: previous hash matches no link")
        elif link.audit_id not in entries:
            finding = Finding("deleted", link.seq, link.audit_id,
                              f"audit entry {link.audit_id} (link {link.seq}) is gone")
        elif link_hash(link.prev_hash, link.seq, entries[link.audit_id]) != link.entry_hash:
            finding = Finding("edited", link.seq, link.audit_id,
                              f"audit entry {link.audit_id} (link {link.seq}) was changed "
                              "after it was chained")
        expected_seq, prev = link.seq + 1, link.entry_hash
    if finding is None:
        loose = sorted(set(entries) - covered)
        if loose:
            finding = Finding("unchained", None, loose[0],
                              f"{len(loose)} audit entries are not in the chain "
                              f"(first: {loose[0]})")
    head = ordered[-1] if ordered else None
    return ChainReport(links=len(ordered), entries=len(entries),
                       head_seq=head.seq if head else 0,
                       head_hash=head.entry_hash if head else GENESIS, finding=finding)
