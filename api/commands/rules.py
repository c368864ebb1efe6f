"""``siaga rules``: the Perbup SLA rules of a regency as YAML (export, import, versions)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from api.commands._common import fail, print_json, session_scope, settings

app = typer.Typer(help="Aturan SLA Perbup per wilayah / the regency's Perbup SLA rules (YAML).",
                  no_args_is_help=True)


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        fail(f"--at {value!r}: tanggal-waktu ISO 8601 dengan zona waktu / an ISO 8601 date-time "
             f"with a time zone (e.g. 2026-07-01T00:00:00+08:00)")
    return moment


@app.command("export")
def export(
    region: str = typer.Option(..., "--region", help="Regency code, e.g. 51.06."),
    at: str = typer.Option(None, "--at", help="The version in force at this moment (ISO 8601)."),
    output: Path = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
) -> None:
    """Write the rules in force (now, or at --at) as a YAML document."""
    import yaml

    from dispatch.exceptions import DispatchError
    from dispatch.scope import Scope
    from dispatch.sla_rules_service import rule_set_in_force

    moment = _moment(at)
    try:
        with session_scope(settings()) as session:
            rs = rule_set_in_force(session, Scope.everything(), region, moment)
    except DispatchError as exc:
        fail(str(exc))
    text = yaml.safe_dump(rs.as_document(), allow_unicode=True, sort_keys=False)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"versi {rs.version} → {output} / version {rs.version} written to {output}",
                   err=True)


@app.command("import")
def import_(
    path: Path = typer.Argument(..., help="YAML file: one document per regency version."),
    actor: str = typer.Option("cli", "--actor", help="Name written into the audit log."),
) -> None:
    """Validate every document of the file, then store each as a new version, all in one
    transaction (nothing is stored when any document is invalid)."""
    import yaml

    from dispatch.config import load_config
    from dispatch.exceptions import DispatchError, SlaRuleError
    from dispatch.scope import Scope
    from dispatch.sla_rules_service import store_rule_set, validate_document

    try:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        fail(f"Berkas {path} tidak dapat dibaca / cannot read {path}: {exc}")
    if not docs:
        fail(f"Berkas {path} kosong / {path} holds no document")
    cfg = settings()
    config = load_config(cfg.agencies_path)
    stored = []
    try:
        with session_scope(cfg) as session:
            problems: list[str] = []
            valid = []
            for n, doc in enumerate(docs, start=1):
                try:
                    valid.append(validate_document(session, doc, config=config))
                except SlaRuleError as exc:
                    problems += [f"dokumen/document {n}: {p}" for p in exc.problems]
            if problems:
                raise SlaRuleError(problems)
            for rs in valid:
                stored.append(store_rule_set(session, Scope.everything(), rs, actor=actor))
    except DispatchError as exc:
        fail(str(exc))
    print_json([{"kode_kab": rs.kode_kab, "version": rs.version,
                 "effective_from": rs.as_document()["effective_from"],
                 "rules": len(rs.rules)} for rs in stored])


@app.command("versions")
def list_versions(region: str = typer.Option(..., "--region", help="Regency code.")) -> None:
    """List the stored versions of a regency's rules (newest first) as JSON."""
    from dispatch.scope import Scope
    from dispatch.sla_rules_service import versions

    with session_scope(settings()) as session:
        print_json(versions(session, Scope.everything(), region))
