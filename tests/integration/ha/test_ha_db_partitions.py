"""Partition maintenance (migration 0019): the scheduler's pass creates today's and the coming
days' ``position`` partitions ahead of their first fix, as the application role, idempotently;
a fix of tomorrow then lands in its own partition, not in the default one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import make_url, text
from sqlalchemy.orm import Session

from api.commands.worker import PARTITION_DAYS_AHEAD, partition_job
from api.db import make_engine, make_sessionmaker
from tracking import service
from tracking.fix import Fix


def test_scheduler_pass_premakes_the_coming_days_as_the_application_role(settings, database_url,
                                                                          engine):
    app_role = make_url(settings.database_url).username
    app_url = make_url(database_url).set(username=app_role).render_as_string(hide_password=False)
    app_engine = make_engine(app_url)
    today = datetime.now(UTC).date()
    days = [today + timedelta(days=d) for d in range(PARTITION_DAYS_AHEAD + 1)]
    names = [f"position_p{d:%Y%m%d}" for d in days]
    try:
        with app_engine.connect() as conn:  # the job really runs as the application role
            assert conn.execute(text("SELECT current_user")).scalar() == app_role
        job = partition_job(make_sessionmaker(app_engine))
        assert job() == [] and job() == []  # nothing to publish; a second pass changes nothing
        with Session(engine) as s:
            attached = set(service.position_partitions(s))
            owners = dict(s.execute(text(
                "SELECT relname, pg_get_userbyid(relowner) FROM pg_class "
                "WHERE relname = ANY(:n)"), {"n": names}).all())
        assert set(names) <= attached
        assert set(owners.values()) == {make_url(database_url).username}  # owned by the owner
        tomorrow = datetime.combine(days[1], datetime.min.time(), UTC) + timedelta(hours=1)
        fix = Fix(device_id="premake-1", fix_time=tomorrow, lon=110.37, lat=-7.8,
                  received_at=datetime.now(UTC))
        with make_sessionmaker(app_engine).begin() as s:
            service.write_batch(s, [fix], [], known_partitions=set(days))  # no DDL on this path
        with Session(engine) as s:
            where = s.execute(text("SELECT tableoid::regclass::text FROM position "
                                   "WHERE device_id = 'premake-1'")).scalar_one()
            s.execute(text("DELETE FROM position WHERE device_id = 'premake-1'"))
            s.execute(text("DELETE FROM latest_position WHERE device_id = 'premake-1'"))
            s.commit()
        assert where == names[1]
    finally:
        app_engine.dispose()
