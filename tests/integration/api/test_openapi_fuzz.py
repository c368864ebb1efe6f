"""A bounded Schemathesis run over the whole OpenAPI document, authenticated as admin.

Every operation gets a fixed number of generated requests, valid and invalid ones (derandomized,
so CI runs the same cases each time), against the app on the real test database with the pilot
regions, road networks and fleet, under every default check: no 500, documented status codes,
content types, headers and response bodies, invalid data rejected.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from dispatch.scoping import EVERYTHING

#: Examples per operation and mode: enough to reach edge cases, small enough for ~1-2 min.
EXAMPLES_PER_OPERATION = 15
#: Error codes of request *syntax* (``api/errors.py``, ``api/middleware.py``): the OpenAPI
#: document must describe these rules, so a schema-valid request never gets one of them.
SYNTAX_ERROR_CODES = frozenset({"invalid_request", "invalid_path", "invalid_header",
                                "payload_too_large"})


def _error_code(response) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def schema_valid_requests_pass_validation(ctx, response, case) -> None:
    """Schema-valid data is never refused as malformed.

    Replaces Schemathesis' ``positive_data_acceptance``, which also counts the 422 of domain
    rules a JSON schema cannot state (an unknown vehicle profile, a place name not found, a
    region without a road network): those answer 422 with their own error code, and pass here.
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    if response.status_code in (400, 413, 422) and _error_code(response) in SYNTAX_ERROR_CODES:
        raise AssertionError(f"schema-valid request refused as malformed: {response.text[:500]}")


def _incident_history(session, kode_kab: str) -> None:
    """Six months of incidents over every desa of the regency (more in the first ones), so the
    planner analytics have something to analyse and valid requests reach their 200s."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text

    from dispatch.models import Incident

    rows = session.execute(text(
        "SELECT kode_desa, ST_X(p), ST_Y(p) FROM (SELECT kode_desa, ST_PointOnSurface(geom) p "
        "FROM desa WHERE kode_kab = :k ORDER BY kode_desa) s"), {"k": kode_kab}).all()
    start = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
    for i, (kode_desa, lon, lat) in enumerate(rows):
        for j in range(1 + (12 if i < 6 else i % 3)):
            session.add(Incident(
                kode_kab=kode_kab, received_at=start + timedelta(days=(7 * j + i) % 180, hours=j),
                channel="phone_112", category="fire" if j % 2 else "flood", kind="emergency",
                status="closed", kode_desa=kode_desa, geom=f"SRID=4326;POINT({lon} {lat})"))
    session.flush()


@pytest.fixture
def fuzz_world(settings, road_build_reports) -> Iterator[tuple[str, str]]:
    """A database of its own (the run creates users and changes units at random), with the
    pilot regions, the Kota Yogyakarta agencies and fleet, and an admin token.
    Yields (database URL, admin token)."""
    from sqlalchemy.orm import Session

    from api.auth import service
    from api.db import make_engine
    from dispatch.config import load_config
    from dispatch.seed_service import fleet_path, seed_region
    from geo.service import import_region
    from tests.conftest import create_database
    from tests.fixtures.geo import PILOT_DIRS

    url = create_database(settings, os.environ.get("SIAGA_TEST_DB", "siaga_test") + "_fuzz")
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            for folder in PILOT_DIRS.values():
                import_region(session, folder / "desa.geojson",
                              kecamatan_path=folder / "kecamatan.geojson",
                              kabupaten_path=folder / "kabupaten.geojson")
            seed_region(session, load_config(), "34.71", fleet=fleet_path("34.71"))
            _incident_history(session, "34.71")
            service.create_user(session=session, username="fuzz_admin",
                                password="rahasia-fuzz-123", role="admin", scope=EVERYTHING)
            token = service.issue_api_token(session=session, username="fuzz_admin",
                                            name="fuzz", scope=EVERYTHING).token
            session.commit()
    finally:
        engine.dispose()
    yield url, token


@pytest.fixture
def fuzz_app(settings, fuzz_world) -> Iterator[FastAPI]:
    """The app on that database with its lifespan running (geocoder, road networks, live hub)."""
    from api.app import create_app
    from tests.fixtures.routing import TEST_ROADS_DIR

    app = create_app(settings.model_copy(update={"database_url": fuzz_world[0],
                                                 "roads_dir": TEST_ROADS_DIR}))
    with TestClient(app):
        yield app


def _run(operation, seen: set[int]) -> None:
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                         operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=strategy)
    @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None,
              suppress_health_check=list(HealthCheck), database=None, print_blob=False)
    def check(case) -> None:
        response = case.call_and_validate(excluded_checks=[positive_data_acceptance],
                               additional_checks=[schema_valid_requests_pass_validation])
        seen.add(response.status_code)

    check()


@pytest.mark.slow
def test_no_operation_fails_or_breaks_its_schema(fuzz_app, fuzz_world):
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    token = fuzz_world[1]

    @schema.auth()
    class _Admin:
        """Every request as the admin (bearer token); Schemathesis then leaves the
        Authorization header alone instead of mutating it."""

        def get(self, case, ctx) -> str:
            return token

        def set(self, case, data: str, ctx) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    failures: dict[str, str] = {}
    statuses: dict[str, set[int]] = {}
    operations = 0
    # Logging out and revoking tokens may end the admin's own token: those run last.
    ending = ("POST /api/v1/auth/logout", "DELETE /api/v1/auth/tokens/{token_id}")
    ordered = sorted((r.ok() for r in schema.get_all_operations()),
                     key=lambda op: op.label in ending)
    for operation in ordered:
        operations += 1
        try:
            _run(operation, statuses.setdefault(operation.label, set()))
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            subs = getattr(exc, "exceptions", ())  # Hypothesis' FlakyFailure is a group
            text = "\n".join([f"{type(exc).__name__}: {exc}"]
                             + [f"  {type(e).__name__}: {e}" for e in subs])
            failures[operation.label] = text[:3000]
    assert operations >= 40
    # the run really was authenticated and reached the handlers: most operations answered 2xx
    succeeded = [label for label, seen in statuses.items() if any(200 <= c < 300 for c in seen)]
    assert len(succeeded) >= operations // 2, "\n".join(f"{k}: {sorted(v)}"
                                                      for k, v in statuses.items())
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
