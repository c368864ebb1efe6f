"""How many API processes ``siaga serve`` runs: the setting, or one per core up to four."""

import pytest

from api.db import AUTO_WORKERS_MAX, api_worker_count
from api.settings import Settings


@pytest.mark.parametrize("cpus, expected", [(1, 1), (2, 2), (3, 3), (4, 4), (16, 4)])
def test_by_default_one_process_per_core_at_most_four(cpus, expected):
    assert api_worker_count(0, cpus=cpus) == expected
    assert AUTO_WORKERS_MAX == 4


def test_a_number_given_wins_over_the_cores():
    assert api_worker_count(1, cpus=8) == 1
    assert api_worker_count(6, cpus=2) == 6


def test_this_machine_gets_at_least_one():
    assert 1 <= api_worker_count() <= AUTO_WORKERS_MAX


def test_the_setting_defaults_to_auto_and_refuses_negative(monkeypatch):
    monkeypatch.delenv("SIAGA_API_WORKERS", raising=False)
    assert Settings().api_workers == 0
    monkeypatch.setenv("SIAGA_API_WORKERS", "2")
    assert Settings().api_workers == 2
    monkeypatch.setenv("SIAGA_API_WORKERS", "-1")
    with pytest.raises(ValueError):
        Settings()
