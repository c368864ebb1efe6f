"""``siaga sop``: a regency's SOP checklists per category and agency as YAML (export, import)."""

from __future__ import annotations

from pathlib import Path

import typer

from api.commands._common import fail, print_json, session_scope, settings

app = typer.Typer(help="SOP per kategori dan OPD / SOP checklists per category and agency "
                       "(YAML).", no_args_is_help=True)


@app.command("export")
def export(
    region: str = typer.Option(..., "--region", help="Regency code, e.g. 51.06."),
    output: Path = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
) -> None:
    """Write the regency's SOP (its own, else the shipped default set) as YAML."""
    import yaml

    from dispatch.exceptions import DispatchError
    from dispatch.scope import Scope
    from dispatch.sop_service import export_document

    try:
        with session_scope(settings()) as session:
            doc = export_document(session, region, scope=Scope.everything())
    except DispatchError as exc:
        fail(str(exc))
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"SOP {region} → {output}", err=True)


@app.command("import")
def import_(
    path: Path = typer.Argument(None, help="YAML file (default: the shipped default set)."),
    region: str = typer.Option(..., "--region", help="Regency code, e.g. 51.06."),
    actor: str = typer.Option("cli", "--actor", help="Name written into the audit log."),
) -> None:
    """Replace the regency's SOP by the file, validated whole (nothing is stored when any step
    is invalid); without a file, store the shipped default set."""
    import yaml

    from dispatch.config import load_config
    from dispatch.exceptions import DispatchError
    from dispatch.scope import Scope
    from dispatch.sop_service import DEFAULT_SOP_PATH, import_document

    source = path or DEFAULT_SOP_PATH
    try:
        doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        fail(f"Berkas {source} tidak dapat dibaca / cannot read {source}: {exc}")
    cfg = settings()
    try:
        with session_scope(cfg) as session:
            steps = import_document(session, doc, kode_kab=region,
                                    config=load_config(cfg.agencies_path), actor=actor,
                                    scope=Scope.everything())
    except DispatchError as exc:
        fail(str(exc))
    print_json({"kode_kab": region, "steps": len(steps),
                "sops": len({(s.category, s.agency) for s in steps})})
