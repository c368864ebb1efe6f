"""The owner role's URL (migrations) always points at the application's database."""

from __future__ import annotations

from api.settings import load_settings

APP = "postgresql+psycopg://siaga_app@127.0.0.1:55432/siaga_test_x"


def test_owner_url_is_the_owner_role_on_the_application_database():
    cfg = load_settings(database_url=APP,
                        migrate_database_url="postgresql+psycopg://siaga:p%40ss@db:5433/siaga")
    assert cfg.owner_database_url == "postgresql+psycopg://siaga:p%40ss@db:5433/siaga_test_x"


def test_without_an_owner_url_migrations_use_the_application_url():
    assert load_settings(database_url=APP, migrate_database_url="").owner_database_url == APP
