"""One typed composition root: ``build_services`` gives typed fields, route modules have no
startup hooks or import-time registrations, and importing the CLI registers nothing."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import typing
from pathlib import Path

import pytest

import api
from api.geocoder_holder import GeocoderHolder
from api.health_probe import DatabaseProbe
from api.http_limits import HttpLimits
from api.services import LiveOptions, LoginThrottles, Services, build_services
from api.settings import Settings
from dispatch import ports
from dispatch.config import DispatchConfig
from geo.routing.store import RoadNetworks

API = Path(api.__file__).parent
ROUTES = sorted((API / "routes").glob("*.py"))
#: Nothing listens here: building the services must not connect.
NOWHERE = "postgresql+psycopg://siaga@127.0.0.1:9/none"


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(database_url=NOWHERE, roads_dir=tmp_path / "roads")


def test_build_services_gives_typed_services_without_connecting(settings) -> None:
    services = build_services(settings)
    assert isinstance(services.dispatch_config, DispatchConfig)
    assert isinstance(services.road_networks, RoadNetworks)
    assert isinstance(services.road_networks, ports.RoadNetworks)
    assert set(services.road_networks.profiles) >= {"ambulance"}
    assert isinstance(services.geocoder, GeocoderHolder)
    assert isinstance(services.health_probe, DatabaseProbe)
    assert services.health_probe.conn is None
    assert isinstance(services.http_limits, HttpLimits)
    assert services.login_throttles == LoginThrottles()
    assert services.live == LiveOptions()
    assert services.publish_events is None and services.running.live_hub is None


def test_overrides_replace_fields_and_publish_goes_to_the_sink(settings) -> None:
    sent: list = []
    live = LiveOptions(topic="t/#", window_s=0.5)
    services = build_services(settings, publish_events=sent.extend, live=live)
    assert services.live is live
    services.publish([])
    assert sent == []
    with pytest.raises(TypeError):
        build_services(settings, resources={})


def test_no_service_field_is_an_untyped_mapping() -> None:
    hints = typing.get_type_hints(Services)
    for f in dataclasses.fields(Services):
        hint = hints[f.name]
        assert hint is not typing.Any, f.name
        assert typing.get_origin(hint) is not dict, f"{f.name}: {hint}"


@pytest.mark.parametrize("path", ROUTES, ids=lambda p: p.name)
def test_route_modules_have_no_hooks_or_module_level_calls(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    assert not names & {"startup", "shutdown"}, f"{path.name}: hooks belong to api.services"
    calls = [n for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]
    assert not calls, f"{path.name}: a call at import time (line {calls[0].lineno if calls else 0})"


def test_errors_have_no_registration_function() -> None:
    errors = importlib.import_module("api.errors")
    assert not hasattr(errors, "register_error")


def test_importing_the_cli_builds_nothing() -> None:
    cli = importlib.import_module("api.cli")
    assert "app" not in vars(cli)  # built on demand by build_cli()
    root = cli.build_cli()
    groups = {g.name for g in root.registered_groups}
    assert {"roads", "dispatch", "incidents"} <= groups
