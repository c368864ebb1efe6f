"""``siaga audit``: verify the audit hash chain; sign and check monthly chain heads (Ed25519)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from api.commands._common import fail, print_json, session_scope
from dispatch.audit_chain_service import link_at, month_head, verify_chain
from dispatch.chain_signature import (
    ChainSignatureError,
    generate_key,
    load_private_key,
    load_public_key,
    sign_head,
    verify_document,
)
from dispatch.exceptions import DispatchError
from dispatch.scope import Scope

app = typer.Typer(help="Audit log hash chain / rantai hash log audit.", no_args_is_help=True)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"{what} tidak terbaca / cannot read {what}: {exc}")
    raise AssertionError  # unreachable: fail() exits


@app.command("verify")
def verify(
    signature: Path = typer.Option(None, "--signature", help="Signature file written by "
                                   "'siaga audit sign': also check that signed head."),
    public_key: Path = typer.Option(None, "--public-key", help="The regency's public key "
                                    "(PEM); without it the key inside the file is used."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Recompute the whole chain; exit 1 at the first broken, edited, deleted or reordered
    entry (and, with --signature, when the signed head does not match the stored chain)."""
    scope = Scope.everything()
    statement = None
    if signature is not None:
        try:
            doc = json.loads(_read(signature, "signature"))
            key = load_public_key(_read(public_key, "public key")) if public_key else None
            statement = verify_document(doc, key)
        except (ChainSignatureError, ValueError) as exc:
            fail(str(exc))
    with session_scope() as session:
        report = verify_chain(session, scope=scope)
        stored = link_at(session, statement.seq, scope=scope) if statement else None
    result = {"ok": report.ok, "links": report.links, "entries": report.entries,
              "head_seq": report.head_seq, "head_hash": report.head_hash,
              "finding": None if report.finding is None else {
                  "kind": report.finding.kind, "seq": report.finding.seq,
                  "audit_id": report.finding.audit_id, "message": report.finding.message}}
    if statement is not None:
        matches = stored == statement.head_hash
        result["signature"] = {"month": statement.month, "seq": statement.seq,
                               "head_hash": statement.head_hash, "signature_valid": True,
                               "matches_chain": matches,
                               "key": "given" if public_key else "embedded in the file"}
        result["ok"] = report.ok and matches
    if as_json:
        print_json(result)
    else:
        typer.echo(f"{report.links} links, {report.entries} audit entries, head "
                   f"{report.head_seq}:{report.head_hash}")
        if report.finding is not None:
            typer.echo(f"RUSAK / BROKEN: {report.finding.kind}: {report.finding.message}")
        if statement is not None:
            verdict = "cocok / matches" if stored == statement.head_hash else \
                "TIDAK COCOK / DOES NOT MATCH"
            typer.echo(f"signed head {statement.month} = {statement.seq}:"
                       f"{statement.head_hash} (signature valid): {verdict}")
        if result["ok"]:
            typer.echo("rantai audit utuh / audit chain intact")
    if not result["ok"]:
        raise typer.Exit(1)


@app.command("sign")
def sign(
    month: str = typer.Option(..., "--month", help="Month YYYY-MM (UTC)."),
    key: Path = typer.Option(..., "--key", help="The regency's Ed25519 private key (PEM)."),
    out: Path = typer.Option(None, "--out", help="Write the signature here (default: print)."),
) -> None:
    """Sign the chain head at the end of MONTH, after checking the chain."""
    scope = Scope.everything()
    try:
        private = load_private_key(_read(key, "key"))
        with session_scope() as session:
            report = verify_chain(session, scope=scope)
            if not report.ok and report.finding is not None:
                fail(f"rantai audit rusak, tidak ditandatangani / the audit chain is broken, "
                     f"nothing signed: {report.finding.message}")
            seq, head_hash = month_head(session, month, scope=scope)
    except DispatchError as exc:
        fail(str(exc))
    doc = sign_head(private, month=month, seq=seq, head_hash=head_hash)
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"signed head {month} = {seq}:{head_hash} -> {out}")


@app.command("keygen")
def keygen(out: Path = typer.Option(..., "--out", help="Private key file to create (PEM); "
                                    "the public key goes to OUT.pub.")) -> None:
    """Create a regency's Ed25519 key pair (the private file is readable by its owner only)."""
    if out.exists():
        fail(f"{out} sudah ada / already exists")
    private, public = generate_key()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private)
    out.with_name(out.name + ".pub").write_bytes(public)
    typer.echo(f"private key {out}, public key {out}.pub")
