"""Our six packages must import from this repository, not from same-named PyPI packages."""

import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    "name", ["geo", "tracking", "dispatch", "api", "maps", "gps_firmware_bridge"]
)
def test_package_is_ours(name: str) -> None:
    module = importlib.import_module(name)
    assert Path(module.__file__).resolve().parent == REPO / name
