"""The thread policy (zoo.runtime.threads): ZOO_NUM_THREADS wins, else the idle physical
cores, at least 1; a bad value is a ConfigError. < 1 s."""

from __future__ import annotations

import os

import pytest

from zoo.errors import ConfigError
from zoo.runtime import threads


def test_env_wins(monkeypatch):
    monkeypatch.setenv("ZOO_NUM_THREADS", "3")
    assert threads.default_threads() == 3


@pytest.mark.parametrize("bad", ["0", "-2", "two", "1.5"])
def test_bad_env_is_config_error(monkeypatch, bad):
    monkeypatch.setenv("ZOO_NUM_THREADS", bad)
    with pytest.raises(ConfigError, match="ZOO_NUM_THREADS"):
        threads.default_threads()


def test_default_is_idle_physical_cores(monkeypatch):
    monkeypatch.delenv("ZOO_NUM_THREADS", raising=False)
    cores = threads.physical_cores()
    assert 1 <= cores <= (os.cpu_count() or 1)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.0 + 10 * cores, 0.0, 0.0))
    assert threads.default_threads() == 1  # a busy machine: one thread
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert threads.default_threads() == cores  # an idle one: every physical core


def test_openmp_pools_sleep_unless_the_user_chose():
    import zoo  # noqa: F401  (quiet_pools ran on import)

    assert os.environ.get("OMP_WAIT_POLICY")  # set by zoo, or by the user before
