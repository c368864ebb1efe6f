"""A bounded Schemathesis run over the whole OpenAPI document, authenticated as admin.

Every operation gets a fixed number of generated requests, valid and invalid ones (derandomized,
so CI runs the same cases each time), against the app on the real test database with the pilot
regions, road networks and fleet, under every default check: no 500, documented status codes,
content types, headers and response bodies, invalid data rejected.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

#: Examples per operation and mode: enough to reach edge cases, small enough for ~1-2 min.
EXAMPLES_PER_OPERATION = 25
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


@pytest.fixture
def fuzz_app(app_factory, role_tokens, console_world) -> Iterator[FastAPI]:
    """The app with its lifespan running (geocoder, road networks, live hub)."""
    app = app_factory(roads_dir=console_world)
    with TestClient(app):
        yield app


def _run(operation, headers: dict[str, str]) -> None:
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                         operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=strategy)
    @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None,
              suppress_health_check=list(HealthCheck), database=None, print_blob=False)
    def check(case) -> None:
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance],
                               additional_checks=[schema_valid_requests_pass_validation])

    check()


@pytest.mark.slow
def test_no_operation_fails_or_breaks_its_schema(fuzz_app, role_tokens):
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    headers = {"Authorization": f"Bearer {role_tokens['admin']}"}
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            _run(operation, headers)
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:3000]
    assert operations >= 40
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
