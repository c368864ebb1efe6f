"""Two ingest workers creating the same day's ``position`` partition at once (a new UTC day with
competing consumers): the second must find the first's partition, not fail with
``DuplicateTable`` (which sent a whole batch down the per-row isolation path)."""

from __future__ import annotations

import threading
import uuid
from datetime import date

from sqlalchemy import text


def _drop(engine, part: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f'DROP TABLE IF EXISTS "{part}"'))


def test_concurrent_creation_of_one_day(engine):
    # a day no other test writes to, unique per run
    day = date.fromordinal(date(2090, 1, 1).toordinal() + uuid.uuid4().int % 3000)
    part = f"position_p{day:%Y%m%d}"
    _drop(engine, part)
    first = engine.connect()
    try:
        tx = first.begin()
        assert first.execute(text("SELECT tracking_ensure_position_partition(:d)"),
                             {"d": day}).scalar_one() == part
        result: dict[str, object] = {}

        def second() -> None:  # waits on the first's lock, then sees its committed partition
            try:
                with engine.begin() as conn:
                    result["part"] = conn.execute(
                        text("SELECT tracking_ensure_position_partition(:d)"),
                        {"d": day}).scalar_one()
            except Exception as exc:  # noqa: BLE001 (asserted below)
                result["error"] = exc

        waiter = threading.Thread(target=second)
        waiter.start()
        waiter.join(1.0)
        assert waiter.is_alive(), "the second creation did not wait for the first"
        tx.commit()
        waiter.join(30)
        assert not waiter.is_alive()
        assert "error" not in result, result.get("error")
        assert result["part"] == part
        with engine.connect() as conn:
            attached = conn.execute(text(
                "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'position'::regclass AND c.relname = :p"),
                {"p": part}).scalar_one()
        assert attached == 1
    finally:
        first.close()
        _drop(engine, part)
