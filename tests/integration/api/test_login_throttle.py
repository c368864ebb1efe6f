"""Login throttling in the database (shared by API instances) and concurrent user creation."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.auth import throttle, throttle_service
from api.auth.models import AppUser, LoginThrottle
from api.services import LoginThrottles
from tests.fixtures.console import TEST_PASSWORD, ensure_user

LOGIN = "/api/v1/auth/login"


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def _address() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


#: The default account policy with a long first delay, so a slow test run cannot outlast it.
SLOW_ACCOUNT = throttle.Backoff(free_failures=throttle.ACCOUNT_POLICY.free_failures,
                                base_delay_s=120.0, max_delay_s=600.0)


def _app(app_factory):
    app = app_factory()
    app.state.siaga.login_throttles = LoginThrottles(SLOW_ACCOUNT, throttle.ADDRESS_POLICY)
    return app


def _login(client: TestClient, username: str, password: str):
    return client.post(LOGIN, json={"username": username, "password": password})


def test_the_owner_logs_in_from_another_address_while_an_attacker_is_throttled(
        app_factory, engine, pilot_regions):
    victim = _name("victim")
    ensure_user(engine, victim, "viewer")
    attacker_ip, owner_ip = _address(), _address()
    app = _app(app_factory)
    with TestClient(app, client=(attacker_ip, 4000)) as attacker, \
            TestClient(app, client=(owner_ip, 4001)) as owner:
        statuses = [_login(attacker, victim, "salah").status_code
                    for _ in range(throttle.ACCOUNT_POLICY.free_failures + 1)]
        assert statuses == [401] * len(statuses)
        # the attacker's address is now slowed down, even with the right password
        blocked = _login(attacker, victim, TEST_PASSWORD)
        assert blocked.status_code == 429
        assert 1 <= int(blocked.headers["retry-after"]) <= 120
        assert blocked.json()["error"]["code"] == "http_429"
        # the owner, elsewhere, is not affected at all
        ok = _login(owner, victim, TEST_PASSWORD)
        assert ok.status_code == 200 and ok.json()["user"]["username"] == victim


def test_a_success_resets_its_own_account_and_address_key(app_factory, engine, pilot_regions):
    user = _name("typo")
    ensure_user(engine, user, "viewer")
    ip = _address()
    with TestClient(app_factory(), client=(ip, 4000)) as client:
        for _ in range(throttle.ACCOUNT_POLICY.free_failures):  # free failures: no delay yet
            assert _login(client, user, "salah").status_code == 401
        assert _login(client, user, TEST_PASSWORD).status_code == 200
    with Session(engine) as session:
        left = throttle_service.counters(session=session,
                                         keys=[throttle.account_key(user, ip),
                                               throttle.address_key(ip)])
    assert left[throttle.account_key(user, ip)].failures == 0
    # the address key keeps counting (an attacker cannot clear it with an account of their own)
    assert left[throttle.address_key(ip)].failures == throttle.ACCOUNT_POLICY.free_failures


def test_two_api_instances_share_the_counters(app_factory, engine, pilot_regions):
    user = _name("shared")
    ensure_user(engine, user, "viewer")
    ip = _address()
    free = throttle.ACCOUNT_POLICY.free_failures
    with TestClient(_app(app_factory), client=(ip, 4000)) as one, \
            TestClient(_app(app_factory), client=(ip, 4000)) as two:
        assert one.app is not two.app
        for i in range(free + 1):
            assert _login(one if i % 2 else two, user, "salah").status_code == 401
        # instance two never saw most of these failures itself, yet it refuses
        assert _login(two, user, TEST_PASSWORD).status_code == 429
        assert _login(one, user, TEST_PASSWORD).status_code == 429
    with Session(engine) as session:
        row = session.get(LoginThrottle, throttle.account_key(user, ip))
        assert row is not None and row.failures == free + 1


def test_the_block_ends_and_the_right_password_works_again(app_factory, engine, pilot_regions):
    user = _name("later")
    ensure_user(engine, user, "viewer")
    ip = _address()
    with TestClient(_app(app_factory), client=(ip, 4000)) as client:
        for _ in range(throttle.ACCOUNT_POLICY.free_failures + 1):
            _login(client, user, "salah")
        assert _login(client, user, TEST_PASSWORD).status_code == 429
        # time passes: move the stored block into the past instead of sleeping
        with Session(engine) as session:
            row = session.get(LoginThrottle, throttle.account_key(user, ip))
            row.blocked_until = datetime.now(UTC) - timedelta(seconds=1)
            session.commit()
        assert _login(client, user, TEST_PASSWORD).status_code == 200


def test_parallel_guesses_are_all_counted(app_factory, engine, pilot_regions):
    user = _name("burst")
    ensure_user(engine, user, "viewer")
    ip = _address()
    n = 8
    barrier = threading.Barrier(n)
    codes: list[int] = []
    with TestClient(_app(app_factory), client=(ip, 4000)) as client:
        def guess() -> None:
            barrier.wait()
            codes.append(_login(client, user, "salah").status_code)

        threads = [threading.Thread(target=guess) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert all(c in (401, 429) for c in codes)
    with Session(engine) as session:
        row = session.get(LoginThrottle, throttle.account_key(user, ip))
    # every attempt that was checked was counted (the old in-memory check let bursts through)
    assert row is not None and row.failures == codes.count(401)
    assert codes.count(401) <= throttle.ACCOUNT_POLICY.free_failures + 1


def test_concurrent_creation_of_one_username_gives_one_201_and_409s(api_client, engine,
                                                                   pilot_regions):
    username = _name("race")
    n = 9
    barrier = threading.Barrier(n)
    results: list[tuple[int, str]] = []

    def create() -> None:
        barrier.wait()
        r = api_client.post("/api/v1/auth/users", json={
            "username": username, "password": TEST_PASSWORD, "role": "viewer",
            "kode_kabs": ["34.71"]})
        results.append((r.status_code, r.json().get("error", {}).get("code", "")))

    threads = [threading.Thread(target=create) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(c for c, _ in results)
    assert codes == [201] + [409] * (n - 1), results
    assert all(code == "user_exists" for status, code in results if status == 409)
    with Session(engine) as session:
        assert session.scalars(select(AppUser).where(AppUser.username == username)).all()
        session.execute(delete(AppUser).where(AppUser.username == username))
        session.commit()
