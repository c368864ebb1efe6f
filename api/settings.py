"""Runtime settings, read only here at the composition root (environment prefix ``SIAGA_``).

When ``SIAGA_DATABASE_URL`` / ``SIAGA_MQTT_URL`` are not set in the environment, the values written
by ``make services`` to ``.siaga/env`` are used, so ``siaga`` commands work against the private
services started by the project's scripts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import make_url

from api.db import sqlalchemy_url

REPO_ROOT = Path(__file__).resolve().parents[1]


def _state_dir() -> Path:
    env = os.environ.get("SIAGA_STATE_DIR")
    if env:
        return Path(env)
    for base in (Path.cwd(), REPO_ROOT):
        if (base / ".siaga").is_dir():
            return base / ".siaga"
    return REPO_ROOT / ".siaga"


class Settings(BaseSettings):
    """All settings of a Siaga deployment."""

    model_config = SettingsConfigDict(
        env_prefix="SIAGA_", env_file=str(_state_dir() / "env"), extra="ignore"
    )

    #: The application's connection: a role that owns nothing (docs/evidence.md).
    database_url: str = "postgresql+psycopg://siaga@127.0.0.1:55432/siaga"
    #: The owner role's connection, for ``siaga db upgrade`` (migrations); empty: database_url.
    #: Only its role, password, host and port are used: the database is database_url's.
    migrate_database_url: str = ""
    mqtt_url: str = "mqtt://127.0.0.1:11883"
    #: Tracker logins (registry): the broker's password and ACL files; after a change the broker
    #: is reloaded by SIGHUP to the pid in ``mqtt_pid_file`` or by ``mqtt_reload_command``
    #: (e.g. ``docker compose kill -s HUP mqtt``). Unset: trackers are registered without logins.
    mqtt_passwd_file: Path | None = None
    mqtt_acl_file: Path | None = None
    mqtt_pid_file: Path | None = None
    mqtt_reload_command: str | None = None
    #: Where tracker logins are kept: ``files`` (the password/ACL files above; the private
    #: broker's default) or ``dynsec`` (Mosquitto's dynamic security plugin, managed over MQTT
    #: as ``mqtt_dynsec_url``, e.g. ``mqtt://siaga-dynsec:<password>@mqtt:1883``; the compose
    #: deployment, whose broker files the API cannot reach).
    mqtt_logins: Literal["files", "dynsec"] = "files"
    mqtt_dynsec_url: str | None = None
    state_dir: Path = _state_dir()
    data_dir: Path = REPO_ROOT / "data"
    #: Where compiled routing indexes are cached (one file per region and profile).
    roads_dir: Path = _state_dir() / "roads"
    #: Vehicle profiles file (YAML); default: the one shipped in ``geo/routing/profiles.yaml``.
    profiles_path: Path | None = None
    #: Agencies/SLA seed file (YAML); default: the one shipped with ``dispatch``.
    agencies_path: Path | None = None
    #: Standby-line notifications (``api/notify.py``): SMTP server for email channels, Gammu
    #: SMSD outbox directory or HTTP SMS gateway for SMS channels.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "siaga-112@localhost"
    sms_spool_dir: str = ""
    sms_gateway_url: str = ""
    #: Seconds between notification delivery passes of ``siaga worker``.
    notify_interval_s: float = 5.0
    #: Tile URL template for the live map, or empty for vector-only (offline) maps.
    tile_url: str = ""
    tile_attribution: str = ""
    #: Secret used to sign session cookies/tokens. Set it in production.
    secret_key: str = "change-me-in-production"
    session_ttl_s: int = 12 * 3600
    default_language: str = "id"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    #: API processes of ``siaga serve``; 0 = one per CPU core, at most 4 (docs/api-workers.md).
    api_workers: int = Field(0, ge=0, le=64)
    #: HTTP requests one API process serves at once (the rest wait in arrival order).
    api_concurrency: int = 8
    #: Seconds a request may wait for its turn before it is answered 503 (server busy).
    api_queue_timeout_s: float = 30.0
    #: Worker threads of one API process for sync code; 0 = ``api_concurrency`` + 4.
    api_threads: int = 0
    #: Pooled database connections per API process; 0 = ``api_concurrency`` + 2.
    db_pool_size: int = 0
    #: Extra connections beyond the pool (background tasks, live token checks).
    db_max_overflow: int = 8
    #: Seconds a request waits for a pooled connection before it is answered 503.
    db_pool_timeout_s: float = 5.0


    @field_validator("database_url", "migrate_database_url")
    @classmethod
    def _multi_host(cls, url: str) -> str:
        """A libpq multi-host URL (primary + standby) in SQLAlchemy's form (api.db)."""
        return sqlalchemy_url(url) if url else url

    @property
    def owner_database_url(self) -> str:
        """The URL migrations run with: the owner role of ``migrate_database_url`` on the
        database of ``database_url`` (``database_url`` itself when no owner URL is set)."""
        if not self.migrate_database_url:
            return self.database_url
        database = make_url(self.database_url).database
        owner = make_url(self.migrate_database_url).set(database=database)
        return owner.render_as_string(hide_password=False)


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment (and ``.siaga/env``), with explicit overrides."""
    return Settings(**overrides)  # type: ignore[arg-type]
