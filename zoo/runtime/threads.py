"""CPU threads of the prediction runtime: one policy for numba, torch and ONNX Runtime.

On a small machine shared with other work, thread pools that each take every core make a
batch slower than one thread: a parallel region waits for its slowest thread, and an idle
OpenMP pool keeps spinning on cores other work needs (numba's ``omp`` layer and torch each
bring one). The policy:

* ``$ZOO_NUM_THREADS`` (or an explicit ``n_threads``) wins;
* else :func:`default_threads`: the *physical* cores this process may run on (hyperthreads
  share one core's arithmetic units), less the cores the machine is already busy with (the
  1-minute load average, this process's own running thread not counted), at least 1: on a
  loaded machine a batch runs on one thread, on an idle one on every core;
* :func:`quiet_pools`, called once when ``zoo`` is imported, makes idle OpenMP threads sleep
  instead of spinning (``OMP_WAIT_POLICY=PASSIVE``, ``KMP_BLOCKTIME=0``), unless the user set
  them; OpenMP reads them when its runtime starts, after this.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

#: environment variable giving the CPU threads of a predictor (Dask workers set it to
#: their own thread count, so that two workers on two cores do not each use both)
THREADS_ENV = "ZOO_NUM_THREADS"


@functools.lru_cache(maxsize=1)
def physical_cores() -> int:
    """Physical cores among the CPUs this process may run on (Linux topology; else the
    logical CPU count)."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
    cores = set()
    for cpu in cpus:
        topo = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            cores.add(((topo / "physical_package_id").read_text().strip(),
                       (topo / "core_id").read_text().strip()))
        except OSError:
            cores.add(("cpu", str(cpu)))
    return max(1, min(len(cores), len(cpus)))


def env_threads() -> int | None:
    """``$ZOO_NUM_THREADS`` as a positive int, or None when unset or empty; a value that is
    not a positive integer is :class:`~zoo.errors.ConfigError`."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        return None
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        from zoo.errors import ConfigError

        raise ConfigError(f"{THREADS_ENV}={raw!r} is not a positive integer; set it to the CPU "
                          "threads to use (e.g. 1) or unset it")
    return n


def default_threads() -> int:
    """Threads for a batch when the caller gives none: ``$ZOO_NUM_THREADS``, else the idle
    physical cores (module docstring), at least 1."""
    n = env_threads()
    if n is not None:
        return n
    cores = physical_cores()
    try:
        busy = max(0.0, os.getloadavg()[0] - 1.0)
    except (AttributeError, OSError):
        busy = 0.0
    return max(1, min(cores, int(cores - busy + 0.5)))


def quiet_pools() -> None:
    """Idle OpenMP threads sleep instead of spinning (unless the user chose otherwise)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("KMP_BLOCKTIME", "0")
