"""``siaga serve``: run the HTTP API and live map."""

from __future__ import annotations

import typer

#: Seconds an idle keep-alive connection stays open: longer than the consoles' polling interval,
#: so a poll does not race the server closing its connection.
KEEP_ALIVE_S = 30


def register(root: typer.Typer) -> None:
    @root.command("serve")
    def serve(
        host: str = typer.Option(None, help="Bind address (default from SIAGA_API_HOST)."),
        port: int = typer.Option(None, help="Port (default from SIAGA_API_PORT)."),
        workers: int = typer.Option(
            None, min=0, max=64,
            help="API processes (uvicorn workers; default SIAGA_API_WORKERS, 0 = one per CPU "
                 "core, at most 4). Each holds up to SIAGA_API_CONCURRENCY + 2 "
                 "+ SIAGA_DB_MAX_OVERFLOW + 2 database connections (docs/api-workers.md)."),
    ) -> None:
        """Run the API (OpenAPI docs at /docs) and the live map."""
        import uvicorn

        from api.db import api_pool_size, api_worker_count
        from api.settings import load_settings

        cfg = load_settings()
        _check_setup(cfg)
        workers = api_worker_count(cfg.api_workers if workers is None else workers)
        h, p = host or cfg.api_host, port or cfg.api_port
        # pool + overflow + the health probe's and the token-change listener's own connections
        per_worker = api_pool_size(cfg.api_concurrency, cfg.db_pool_size) + cfg.db_max_overflow + 2
        typer.echo(f"Siaga API: http://{h}:{p}/  (docs: http://{h}:{p}/docs)")
        typer.echo(f"{workers} worker(s) x {cfg.api_concurrency} requests at once; up to "
                   f"{workers * per_worker} database connections.")
        if workers == 1:
            from api.app import create_app

            uvicorn.run(create_app(cfg), host=h, port=p, log_level="warning",
                        timeout_keep_alive=KEEP_ALIVE_S)
        else:
            # Each worker process builds its own app (engine, pool, MQTT fan-out) from the
            # environment, exactly as the single-process server does.
            uvicorn.run("api.app:create_app", factory=True, workers=workers, host=h, port=p,
                        log_level="warning", timeout_keep_alive=KEEP_ALIVE_S)


def _check_setup(cfg) -> None:  # noqa: ANN001 - api.settings.Settings
    """Refuse to start on an unreachable or unmigrated database (with the command to run); warn
    when no region or road network is loaded yet."""
    from api.db import make_engine
    from api.readiness import require_database

    engine = make_engine(cfg.database_url)
    try:
        require_database(engine, roads_dir=cfg.roads_dir)
    finally:
        engine.dispose()
