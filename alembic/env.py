"""Alembic environment: the URL comes from the config (set by api.migrate) or the settings'
owner URL (SIAGA_MIGRATE_DATABASE_URL's role on SIAGA_DATABASE_URL's database)."""

from __future__ import annotations

from sqlalchemy import create_engine, pool

from alembic import context

config = context.config


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from api.settings import load_settings

        url = load_settings().owner_database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def run_migrations_offline() -> None:
    context.configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=False)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
