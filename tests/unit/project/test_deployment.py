"""The deployment descriptors are valid and the layering contracts hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import service_missing

REPO = Path(__file__).resolve().parents[3]


def test_docker_compose_config_is_valid() -> None:
    exe = shutil.which("docker-compose")
    if exe is None:
        service_missing("docker-compose (Debian package docker-compose) is not installed")
    result = subprocess.run(
        [exe, "-f", str(REPO / "docker-compose.yml"), "config", "-q"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_docker_compose_has_the_platform_services() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "mqtt", "migrate", "api", "ingest"} <= set(services)
    assert services["db"]["image"].startswith("postgis/postgis")
    assert any("mosquitto.conf" in v for v in services["mqtt"]["volumes"])
    for name in ("db", "mqtt", "api"):
        assert "healthcheck" in services[name], name
    for mounted in services["mqtt"]["volumes"]:
        host_path = mounted.split(":")[0]
        if host_path.startswith("./") and not host_path.endswith("/passwd"):
            assert (REPO / host_path).exists(), f"{host_path} is mounted but missing"


def test_import_layering_contracts() -> None:
    """api > maps > dispatch > tracking > geo, and the bridge stands alone (import-linter)."""
    exe = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(exe)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def _imported_top_levels(package: str) -> dict[str, set[str]]:
    """Top-level module names imported anywhere in ``package`` (static, via ast)."""
    import ast

    found: dict[str, set[str]] = {}
    for path in (REPO / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(REPO)))
    return found


def test_http_stays_in_api() -> None:
    """No HTTPException (or any FastAPI import) below api/."""
    for package in ("geo", "tracking", "dispatch", "maps"):
        imported = _imported_top_levels(package)
        assert "fastapi" not in imported, imported.get("fastapi")
        assert "starlette" not in imported, imported.get("starlette")


def test_bridge_imports_no_server_libraries() -> None:
    imported = _imported_top_levels("gps_firmware_bridge")
    for heavy in ("sqlalchemy", "geoalchemy2", "fastapi", "osmnx", "shapely", "folium", "psycopg"):
        assert heavy not in imported, (heavy, imported.get(heavy))


def test_paho_only_at_the_transport_edges() -> None:
    """paho-mqtt is used by the ingest worker, the API's live fan-out and the bridge only."""
    for package in ("geo", "dispatch", "maps"):
        assert "paho" not in _imported_top_levels(package), package
