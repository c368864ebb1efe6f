"""Ed25519 signatures over a monthly audit chain head (pure: bytes in, bytes out).

A regency keeps its private key; ``siaga audit sign`` signs the statement "the chain head at the
end of month M is link ``seq`` with hash ``head_hash``" and writes it as JSON beside the printed
monthly report. Anyone holding the regency's public key can later check the signature and, with
``siaga audit verify --signature``, that the stored chain still has that hash at that link.

Signed bytes: the statement as JSON with sorted keys, no whitespace, UTF-8.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from dispatch.exceptions import DispatchError

STATEMENT_KIND = "siaga-audit-chain-head"
STATEMENT_VERSION = 1


class ChainSignatureError(DispatchError):
    """A key or signature file that cannot be used, or a signature that does not verify."""


@dataclass(frozen=True)
class HeadStatement:
    """What a valid signature document states: the chain head at the end of ``month`` is link
    ``seq`` with hash ``head_hash``."""

    month: str
    seq: int
    head_hash: str
    signed_at: str


def generate_key() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as ``(private PEM (PKCS#8, unencrypted), public PEM)``."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return private, public_pem(key.public_key())


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM; any other content raises :class:`ChainSignatureError`."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ChainSignatureError(f"Kunci privat tidak terbaca / unreadable private key: {exc}"
                                  ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ChainSignatureError("Kunci harus Ed25519 / the key must be Ed25519.")
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise ChainSignatureError(f"Kunci publik tidak terbaca / unreadable public key: {exc}"
                                  ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise ChainSignatureError("Kunci harus Ed25519 / the key must be Ed25519.")
    return key


def _signed_bytes(statement: dict[str, Any]) -> bytes:
    return json.dumps(statement, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def sign_head(key: Ed25519PrivateKey, *, month: str, seq: int, head_hash: str,
              signed_at: datetime | None = None) -> dict[str, Any]:
    """The signature document of one monthly chain head."""
    statement = {"kind": STATEMENT_KIND, "version": STATEMENT_VERSION, "month": month,
                 "seq": seq, "head_hash": head_hash,
                 "signed_at": (signed_at or datetime.now(UTC)).astimezone(UTC).isoformat()}
    signature = key.sign(_signed_bytes(statement))
    return {"statement": statement, "algorithm": "Ed25519",
            "public_key": public_pem(key.public_key()).decode("ascii"),
            "signature": base64.b64encode(signature).decode("ascii")}


def verify_document(doc: Any, public_key: Ed25519PublicKey | None = None) -> HeadStatement:
    """The statement of a valid signature document, checked with ``public_key`` (the regency's;
    without it, the key inside the document, which only proves the document is intact)."""
    try:
        statement = doc["statement"]
        signature = base64.b64decode(doc["signature"], validate=True)
        embedded = load_public_key(doc["public_key"].encode("ascii"))
        head = HeadStatement(statement["month"], statement["seq"], statement["head_hash"],
                             statement["signed_at"])
        if statement["kind"] != STATEMENT_KIND or not isinstance(head.seq, int) \
                or isinstance(head.seq, bool) or not all(
                    isinstance(v, str) for v in (head.month, head.head_hash, head.signed_at)):
            raise ChainSignatureError("Bukan tanda tangan kepala rantai audit / not an audit "
                                      "chain head signature.")
    except (KeyError, TypeError, AttributeError, binascii.Error, UnicodeError):
        raise ChainSignatureError("Berkas tanda tangan rusak / malformed signature file.") from None
    key = public_key or embedded
    if public_key is not None and public_pem(public_key) != public_pem(embedded):
        raise ChainSignatureError("Ditandatangani dengan kunci lain / signed with another key.")
    try:
        key.verify(signature, _signed_bytes(statement))
    except InvalidSignature:
        raise ChainSignatureError("Tanda tangan tidak valid / the signature does not verify."
                                  ) from None
    return head
