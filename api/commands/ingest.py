"""``siaga ingest``: the MQTT position ingest worker, and position retention (``prune``)."""

from __future__ import annotations

import logging
import signal
from datetime import UTC, datetime

import typer

from api.commands._common import print_json, session_scope, settings

app = typer.Typer(help="Ingest GPS positions from MQTT into PostGIS / ingest posisi GPS.",
                  invoke_without_command=True)


@app.callback()
def run(
    ctx: typer.Context,
    client_id: str = typer.Option("siaga-ingest", envvar="SIAGA_INGEST_CLIENT_ID",
                                  help="Fixed MQTT client id (the persistent session's name)."),
    shared_group: str = typer.Option(
        "", envvar="SIAGA_INGEST_SHARED_GROUP",
        help="MQTT 5 shared subscription group so several workers split the load (empty: plain "
             "subscription; Mosquitto 2.0 forgets shared subscriptions on a broker restart)."),
    topic_prefix: str = typer.Option("", envvar="SIAGA_INGEST_TOPIC_PREFIX",
                                     help="Prefix before siaga/v1/... and owntracks/..."),
    batch_max_fixes: int = typer.Option(
        20000, envvar="SIAGA_INGEST_BATCH_MAX_FIXES",
        help="Largest batch while the writer is busy (an idle writer takes what has arrived)."),
    batch_max_delay_s: float = typer.Option(
        0.1, envvar="SIAGA_INGEST_BATCH_MAX_DELAY_S",
        help="Age at which a batch is queued behind the one being written."),
    max_speed_mps: float = typer.Option(90.0, envvar="SIAGA_INGEST_MAX_SPEED_MPS",
                                        help="Implied speed above which a jump is implausible."),
    flag_jumps: bool = typer.Option(False, envvar="SIAGA_INGEST_FLAG_JUMPS",
                                    help="Store implausible jumps flagged instead of rejecting."),
    max_future_s: float = typer.Option(300.0, envvar="SIAGA_INGEST_MAX_FUTURE_S"),
    max_age_days: float = typer.Option(365.0, envvar="SIAGA_INGEST_MAX_AGE_DAYS"),
    stale_after_s: float = typer.Option(600.0, envvar="SIAGA_INGEST_STALE_AFTER_S"),
    stats_interval_s: float = typer.Option(60.0, envvar="SIAGA_INGEST_STATS_INTERVAL_S"),
    session_expiry_s: int = typer.Option(7 * 86400, envvar="SIAGA_INGEST_SESSION_EXPIRY_S",
                                         help="How long the broker keeps the session (backlog)."),
    transport: str = typer.Option(
        "mqtt", envvar="SIAGA_INGEST_TRANSPORT",
        help="mqtt: one MQTT broker (SIAGA_MQTT_URL, the default); jetstream: the NATS JetStream "
             "cluster of a high-availability deployment (SIAGA_NATS_URLS, docs/ha-messaging.md)."),
    nats_urls: str = typer.Option(
        "", envvar="SIAGA_NATS_URLS",
        help="Comma-separated NATS URLs of the cluster's nodes (jetstream transport)."),
) -> None:
    """Run the ingest worker until SIGTERM/SIGINT (then flush the batch and exit)."""
    if ctx.invoked_subcommand is not None:
        return
    from api.db import make_engine, make_sessionmaker
    from api.ingest_hooks import ingest_hooks
    from api.readiness import require_database
    from tracking.ingest import IngestConfig
    from tracking.plausibility import PlausibilityLimits

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    cfg = settings()
    config = IngestConfig(
        mqtt_url=cfg.mqtt_url, client_id=client_id, shared_group=shared_group or None,
        topic_prefix=topic_prefix, batch_max_fixes=batch_max_fixes,
        batch_max_delay_s=batch_max_delay_s, stale_after_s=stale_after_s,
        stats_interval_s=stats_interval_s, session_expiry_s=session_expiry_s,
        limits=PlausibilityLimits(max_future_s=max_future_s, max_age_s=max_age_days * 86400,
                                  max_jump_speed_mps=max_speed_mps, flag_jumps=flag_jumps),
    )
    engine = make_engine(cfg.database_url)
    require_database(engine)
    options = {}
    if transport == "jetstream":
        from tracking.transport_jetstream import JetStreamTransport

        servers = [u.strip() for u in nats_urls.split(",") if u.strip()]
        if not servers:
            raise typer.BadParameter("SIAGA_NATS_URLS is empty / SIAGA_NATS_URLS kosong",
                                     param_hint="--nats-urls")
        options["transport"] = JetStreamTransport(config, servers)
    elif transport != "mqtt":
        raise typer.BadParameter(f"unknown transport {transport!r} (mqtt, jetstream) / "
                                 f"transport tidak dikenal", param_hint="--transport")
    worker = make_worker(make_sessionmaker(engine), config, hooks=ingest_hooks(cfg), **options)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop())
    try:
        worker.run()
    finally:
        engine.dispose()


def make_worker(sessions, config, *, hooks=(), **options):
    """The worker as ``siaga ingest`` wires it: stale-tracker events only for units on duty.

    The on-duty set (``dispatch.assignment_service.on_duty_devices``: tracker ids of units not out
    of service) is read again at every stale check (``IngestConfig.stale_check_interval_s``), so
    a unit taken off duty stops raising events at the next check.
    """
    from dispatch.assignment_service import on_duty_devices
    from tracking.ingest import IngestWorker

    return IngestWorker(sessions, config, hooks=hooks, on_duty=on_duty_devices, **options)


@app.command("prune")
def prune(older_than_days: int = typer.Option(..., "--older-than-days", min=1,
                                              help="Drop positions older than this many days.")
          ) -> None:
    """Retention: drop daily position partitions (and rejects) older than N days (as the owner
    role, SIAGA_MIGRATE_DATABASE_URL: dropping a partition needs its owner)."""
    from tracking import service

    cfg = settings()
    with session_scope(cfg.model_copy(update={"database_url": cfg.owner_database_url})) as session:
        result = service.prune(session, older_than_days=older_than_days, now=datetime.now(UTC))
    print_json({"dropped_partitions": result.dropped_partitions,
                "deleted_default_rows": result.deleted_default_rows,
                "deleted_rejects": result.deleted_rejects})
