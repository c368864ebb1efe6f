"""libpq multi-host URLs (a primary + standby pair) reach psycopg as one host/port list."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from api.db import sqlalchemy_url
from api.settings import load_settings

PAIR = ("postgresql://siaga_app@127.0.0.1:55441,127.0.0.1:55442/siaga"
        "?target_session_attrs=read-write")


def _connect_args(url: str) -> dict[str, object]:
    engine = create_engine(sqlalchemy_url(url))
    return engine.dialect.create_connect_args(engine.url)[1]


def test_pair_url_becomes_one_libpq_host_list_that_wants_the_primary():
    args = _connect_args(PAIR)
    assert args["host"] == "127.0.0.1,127.0.0.1"
    assert args["port"] == "55441,55442"
    assert args["target_session_attrs"] == "read-write"
    assert args["dbname"] == "siaga" and args["user"] == "siaga_app"


def test_single_host_url_is_unchanged_but_for_the_driver():
    assert sqlalchemy_url("postgresql://siaga@127.0.0.1:55432/siaga") == (
        "postgresql+psycopg://siaga@127.0.0.1:55432/siaga")
    same = "postgresql+psycopg://siaga@127.0.0.1:55432/siaga?sslmode=require"
    assert sqlalchemy_url(same) == same


def test_password_with_reserved_characters_survives():
    args = _connect_args("postgresql://siaga:p%40ss%2Cw@db1:5432,db2:5433/siaga")
    assert args["password"] == "p@ss,w"
    assert (args["host"], args["port"]) == ("db1,db2", "5432,5433")


def test_settings_keep_the_pair_for_the_application_and_the_owner(monkeypatch):
    monkeypatch.setenv("SIAGA_DATABASE_URL", PAIR)
    monkeypatch.setenv("SIAGA_MIGRATE_DATABASE_URL", PAIR.replace("siaga_app@", "siaga@"))
    settings = load_settings()
    for url in (settings.database_url, settings.owner_database_url):
        engine = create_engine(url)
        args = engine.dialect.create_connect_args(engine.url)[1]
        assert args["host"] == "127.0.0.1,127.0.0.1" and args["port"] == "55441,55442"
        assert args["target_session_attrs"] == "read-write"
    assert "siaga@" in settings.owner_database_url


_label = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
_host = st.one_of(st.lists(_label, min_size=1, max_size=3).map(".".join),
                  st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t))))


@settings(deadline=None)
@given(hosts=st.lists(st.tuples(_host, st.integers(1, 65535)), min_size=1, max_size=5),
       db=st.text("abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=12))
def test_any_host_list_reaches_psycopg_in_order(hosts, db):
    netloc = ",".join(f"{h}:{p}" for h, p in hosts)
    args = _connect_args(f"postgresql://u@{netloc}/{db}?target_session_attrs=read-write")
    assert args["host"] == ",".join(h for h, _ in hosts)
    assert str(args["port"]) == ",".join(str(p) for _, p in hosts)
    assert args["dbname"] == db and args["target_session_attrs"] == "read-write"


def test_plain_psycopg_connections_get_the_same_host_list():
    """The health probe connects beside the pool: with the pair's hosts, not a URL libpq rejects."""
    from psycopg.conninfo import conninfo_to_dict

    from api.db import libpq_conninfo, make_engine

    info = conninfo_to_dict(libpq_conninfo(make_engine(PAIR.replace("siaga_app@",
                                                                     "siaga_app:rahasia@"))))
    assert info["host"] == "127.0.0.1,127.0.0.1" and info["port"] == "55441,55442"
    assert info["target_session_attrs"] == "read-write" and info["password"] == "rahasia"
    single = conninfo_to_dict(libpq_conninfo(make_engine("postgresql://s@127.0.0.1:55432/siaga")))
    assert (single["host"], single["port"], single["dbname"]) == ("127.0.0.1", "55432", "siaga")
