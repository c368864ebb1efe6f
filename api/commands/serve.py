"""``siaga serve``: run the HTTP API and live map."""

from __future__ import annotations

import typer


def register(root: typer.Typer) -> None:
    @root.command("serve")
    def serve(
        host: str = typer.Option(None, help="Bind address (default from SIAGA_API_HOST)."),
        port: int = typer.Option(None, help="Port (default from SIAGA_API_PORT)."),
    ) -> None:
        """Run the API (OpenAPI docs at /docs) and the live map."""
        import uvicorn

        from api.app import create_app
        from api.settings import load_settings

        cfg = load_settings()
        app = create_app(cfg)
        h, p = host or cfg.api_host, port or cfg.api_port
        typer.echo(f"Siaga API: http://{h}:{p}/  (docs: http://{h}:{p}/docs)")
        uvicorn.run(app, host=h, port=p, log_level="warning")
