"""Request limits and the Origin allow-list of the HTTP service (read from the environment)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Default maximum request body (bytes) and the smaller one of the login route.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_LOGIN_MAX_BODY_BYTES = 16 * 1024


class HttpLimits(BaseSettings):
    """Request limits and the Origin allow-list (environment ``SIAGA_MAX_BODY_BYTES``,
    ``SIAGA_LOGIN_MAX_BODY_BYTES``, ``SIAGA_ALLOWED_ORIGINS`` as a JSON list)."""

    model_config = SettingsConfigDict(env_prefix="SIAGA_", extra="ignore")

    max_body_bytes: Annotated[int, Field(ge=1024)] = DEFAULT_MAX_BODY_BYTES
    login_max_body_bytes: Annotated[int, Field(ge=1024)] = DEFAULT_LOGIN_MAX_BODY_BYTES
    #: Other origins (``https://host[:port]``) allowed to send cookie-authenticated writes.
    allowed_origins: list[str] = []
