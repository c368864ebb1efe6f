"""The bridge installs alone: importing every module pulls in none of the platform's packages."""

import json
import pkgutil
import subprocess
import sys

import gps_firmware_bridge

FORBIDDEN = [
    "geo",
    "tracking",
    "dispatch",
    "api",
    "maps",
    "sqlalchemy",
    "geoalchemy2",
    "fastapi",
    "osmnx",
    "shapely",
    "folium",
    "psycopg",
]


def test_bridge_modules_import_nothing_forbidden():
    modules = sorted(
        f"gps_firmware_bridge.{m.name}"
        for m in pkgutil.iter_modules(gps_firmware_bridge.__path__)
        if m.name != "__main__"
    )
    assert "gps_firmware_bridge.cli" in modules and len(modules) >= 12
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted({n.split('.')[0] for n in sys.modules})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert not loaded & set(FORBIDDEN), loaded & set(FORBIDDEN)
