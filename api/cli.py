"""The ``siaga`` command line: one Typer app, each command group in ``api/commands/<name>.py``."""

from __future__ import annotations

import importlib
import sys

import typer

from api.readiness import explain

#: (module under api.commands, command group name). A module exposes ``app`` (a Typer group)
#: or ``register(root_app)`` for top-level commands.
COMMAND_MODULES: list[tuple[str, str]] = [
    ("db", "db"),
    ("serve", "serve"),
    ("regions", "regions"),
    ("geocode", "geocode"),
    ("roads", "roads"),
    ("route", "route"),
    ("incidents", "incidents"),
    ("dispatch", "dispatch"),
    ("ingest", "ingest"),
    ("users", "users"),
    ("demo", "demo"),
    ("analytics", "analytics"),
    ("rules", "rules"),
    ("sop", "sop"),
    ("audit", "audit"),
    ("drill", "drill"),
    ("worker", "worker"),
    ("fleet", "fleet"),
    ("report", "report"),
    ("population", "population"),
]


def build_cli() -> typer.Typer:
    """The ``siaga`` app with the command groups of :data:`COMMAND_MODULES` (built on call,
    nothing at import)."""
    root = typer.Typer(
        name="siaga",
        help=(
            "Siaga: 112 dispatch and responder tracking / "
            "dispatch 112 dan pelacakan unit reaksi cepat."
        ),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    for module_name, group in COMMAND_MODULES:
        module = importlib.import_module(f"api.commands.{module_name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(root)
        elif getattr(module, "app", None) is not None:
            root.add_typer(module.app, name=group)
    return root


def __getattr__(name: str) -> typer.Typer:
    """``api.cli.app``: the CLI built by :func:`build_cli` (``from api.cli import app``)."""
    if name == "app":
        return build_cli()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    app = build_cli()
    try:
        app()
    except Exception as exc:
        # A database that is unreachable or not migrated: say what to run, not the SQL error.
        notice = explain(exc)
        if notice is None:
            raise
        print(f"error: {notice.text()}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
