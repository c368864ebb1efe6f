"""The composition root's typed services: :func:`build_services` (used by ``create_app`` and the
CLI) and what the HTTP process starts and stops around them (:func:`start`, :func:`stop`).

Everything the routes and commands share is a typed field of :class:`Services`: settings, the
database engine and sessions, the dispatch configuration, the road networks with their vehicle
profiles, the geocoder holder, the domain-event sink, the login throttles, the HTTP limits and the
live-stream options. Nothing is built at import time and no route module has startup hooks;
``start`` warms the routing kernels, loads the geocoder and starts the live fan-out, the
escalation loop and the health probe, ``stop`` ends them in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.auth.throttle import ACCOUNT_POLICY, ADDRESS_POLICY, Backoff
from api.auth_listener import AuthListener, watch_sessions
from api.db import libpq_conninfo, make_api_engine, make_sessionmaker, unit_of_work
from api.geocoder_holder import GeocoderHolder
from api.health_probe import DatabaseProbe
from api.http_limits import HttpLimits
from api.live import EVENTS_TOPIC, LiveHub, MqttEventSource
from api.live_scope import DbAgencyScope
from api.principal_cache import PrincipalCache
from api.settings import Settings
from dispatch.config import DispatchConfig, load_config
from dispatch.escalation_service import check_escalations
from dispatch.events import DomainEvent
from dispatch.scoping import EVERYTHING
from geo.routing.kernels import warm_up
from geo.routing.profiles import load_profiles
from geo.routing.store import RoadNetworks
from tracking.mqtt_accounts import TrackerAccounts

log = logging.getLogger("siaga.api")

#: Where committed domain events go: ``[(topic, payload), ...]`` (the MQTT fan-out by default).
EventSink = Callable[[list[tuple[str, dict[str, Any]]]], None]


@dataclass(frozen=True)
class LoginThrottles:
    """Backoff policies of failed logins: per (account, address) and per address."""

    account: Backoff = ACCOUNT_POLICY
    address: Backoff = ADDRESS_POLICY


@dataclass(frozen=True)
class LiveOptions:
    """The live WebSocket: MQTT topic filter, coalescing window, session re-check period."""

    topic: str = EVENTS_TOPIC
    window_s: float = 0.1
    recheck_s: float = 30.0


@dataclass
class Running:
    """What :func:`start` started (``None`` before and after)."""

    live_hub: LiveHub | None = None
    live_source: MqttEventSource | None = None
    escalation_task: asyncio.Task[None] | None = None
    auth_listener: AuthListener | None = None
    #: GeoJSON text of each region's road lines, built on first request.
    roads_geojson: dict[str, str] = field(default_factory=dict)


@dataclass
class Services:
    """The process-wide services, built once by :func:`build_services` and passed to handlers."""

    settings: Settings
    engine: Engine
    sessionmaker: sessionmaker[Session]
    dispatch_config: DispatchConfig
    road_networks: RoadNetworks
    geocoder: GeocoderHolder
    health_probe: DatabaseProbe
    http_limits: HttpLimits
    login_throttles: LoginThrottles = LoginThrottles()
    live: LiveOptions = LiveOptions()
    #: Seconds between escalation passes; ``None``: no periodic pass (``POST /escalations/check``).
    escalation_interval_s: float | None = None
    #: The sink of committed domain events; ``None``: the live fan-out's MQTT publisher.
    publish_events: EventSink | None = None
    #: The broker's tracker logins (registry); ``None`` when no password/ACL file is configured.
    tracker_accounts: TrackerAccounts | None = None
    #: Principals of recently seen tokens, cleared on every change of tokens or users.
    principal_cache: PrincipalCache = field(default_factory=PrincipalCache)
    running: Running = field(default_factory=Running)

    def publish(self, events: Sequence[DomainEvent]) -> None:
        """Hand committed domain events to the sink (nothing when there is none or no events)."""
        if self.publish_events is not None and events:
            self.publish_events([e.as_message() for e in events])


def build_services(settings: Settings, *, engine: Engine | None = None,
                   **overrides: Any) -> Services:
    """Build every shared service from ``settings``; ``overrides`` replace fields (tests, tools).

    Nothing connects here: the engine's pool, the routing indexes and the geocoder load on first
    use (or in :func:`start`).
    """
    engine = engine or make_api_engine(
        settings.database_url, concurrency=settings.api_concurrency,
        pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow,
        pool_timeout_s=settings.db_pool_timeout_s)
    sessions = make_sessionmaker(engine)
    built: dict[str, Any] = {"settings": settings, "engine": engine, "sessionmaker": sessions}
    if "dispatch_config" not in overrides:
        built["dispatch_config"] = load_config(settings.agencies_path)
    if "road_networks" not in overrides:
        built["road_networks"] = RoadNetworks(settings.roads_dir,
                                              load_profiles(settings.profiles_path))
    if "geocoder" not in overrides:
        built["geocoder"] = GeocoderHolder(sessions)
    if "health_probe" not in overrides:
        built["health_probe"] = DatabaseProbe(libpq_conninfo(engine))
    if "http_limits" not in overrides:
        built["http_limits"] = HttpLimits()
    services = Services(**built, **overrides)
    watch_sessions(services.sessionmaker, services.principal_cache)
    return services


def escalate_once(services: Services) -> list[DomainEvent]:
    """One escalation pass in its own transaction; returns the events to publish."""
    nets = services.road_networks
    with unit_of_work(services.sessionmaker) as session:
        result = check_escalations(session, config=services.dispatch_config,
                                   road_networks=nets, profiles=nets.profiles,
                                   scope=EVERYTHING)  # the scheduler: every regency
    return result.events


async def _escalation_loop(services: Services, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            events = await asyncio.to_thread(escalate_once, services)
            services.publish(events)
        except Exception:  # noqa: BLE001 - the loop must survive a failed pass
            log.exception("escalation pass failed")


async def start(services: Services) -> None:
    """Start what serves HTTP: compiled routing kernels, the geocoder, the live fan-out (whose
    MQTT publisher becomes the event sink unless one is set) and the escalation loop."""
    warm_up()  # compiled (or loaded from their cache) before the first query
    try:
        services.geocoder.get()  # built now unless the holder has the current regions already
    except Exception:  # noqa: BLE001 - database not migrated yet: load lazily on first request
        pass
    hub = LiveHub(window_s=services.live.window_s, scope=DbAgencyScope(services.sessionmaker))
    hub.start()
    source = MqttEventSource(services.settings.mqtt_url, hub, topic=services.live.topic)
    source.start()
    services.running.live_hub, services.running.live_source = hub, source
    # The principal cache is on only while this listener is listening (api/principal_cache.py).
    listener = AuthListener(libpq_conninfo(services.engine), services.principal_cache)
    listener.start()
    services.running.auth_listener = listener
    if services.publish_events is None:
        # Domain events of the dispatch routes go to the broker (and so to every API instance).
        services.publish_events = source.publish
    if services.escalation_interval_s:
        services.running.escalation_task = asyncio.create_task(
            _escalation_loop(services, float(services.escalation_interval_s)))


async def stop(services: Services) -> None:
    """Stop what :func:`start` started, in reverse order, and close the connections."""
    running = services.running
    task, running.escalation_task = running.escalation_task, None
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    listener, running.auth_listener = running.auth_listener, None
    if listener is not None:
        await asyncio.to_thread(listener.stop)
    source, running.live_source = running.live_source, None
    if source is not None:
        await asyncio.to_thread(source.stop)
    hub, running.live_hub = running.live_hub, None
    if hub is not None:
        await hub.stop()
    await services.health_probe.close()
