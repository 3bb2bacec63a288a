"""Progress and log messages of long jobs, always on stderr (stdout carries results only).

* :func:`configure_logging` sets up the ``zoo`` logger once per process: rich formatting
  on a terminal, plain ``time level message`` lines otherwise; ``verbosity`` -1 (``-q``)
  shows warnings only, 0 (default) information, 1 (``-v``) debug messages such as the
  training libraries' per-iteration metrics.
* :func:`task` reports the progress of one job: a rich bar when stderr is a terminal,
  otherwise a plain log line every ``ZOO_PROGRESS_INTERVAL`` seconds (default 10) with
  done/total, rate and ETA, and a closing line with the elapsed time. Plugins use the same
  function, so a regressor's training progress goes through the same channel.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator

LOGGER = "zoo"
INTERVAL_ENV = "ZOO_PROGRESS_INTERVAL"

_state = {"verbosity": 0, "configured": False}


def get_logger(name: str = LOGGER) -> logging.Logger:
    """The zoo's logger (or a child, e.g. ``zoo.plugins.xgboost``)."""
    return logging.getLogger(name)


def _stderr_is_terminal() -> bool:
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def configure_logging(verbosity: int = 0) -> None:
    """Route the ``zoo`` logger to stderr at the level of ``verbosity`` (-1, 0 or 1)."""
    _state["verbosity"] = int(verbosity)
    log = get_logger()
    log.setLevel(logging.WARNING if verbosity < 0 else
                 logging.INFO if verbosity == 0 else logging.DEBUG)
    for handler in list(log.handlers):
        if getattr(handler, "_zoo", False):
            log.removeHandler(handler)
    if _stderr_is_terminal():
        from rich.console import Console
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(console=Console(stderr=True), show_path=False,
                                               show_time=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s",
                                               "%H:%M:%S"))
    handler._zoo = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.propagate = False
    _state["configured"] = True


def _fmt_eta(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@contextlib.contextmanager
def task(description: str, total: float | None = None, *, unit: str = "points",
         enabled: bool = True) -> Iterator[Callable[[float], None]]:
    """Report the progress of a job; yields ``advance(n)``.

    Quiet (``-q``) or ``enabled=False``: nothing is shown. Otherwise a rich bar on a
    terminal and periodic plain lines elsewhere (see the module docstring).
    """
    if not enabled or _state["verbosity"] < 0:
        yield lambda n: None
        return
    if _stderr_is_terminal():
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        with Progress("[progress.description]{task.description}", BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                      console=Console(stderr=True), transient=False) as bar:
            tid = bar.add_task(description, total=total)
            yield lambda n: bar.advance(tid, n)
        return
    log = get_logger()
    interval = float(os.environ.get(INTERVAL_ENV, "10"))
    start = last = time.perf_counter()
    done = [0.0]

    def advance(n: float) -> None:
        nonlocal last
        done[0] += n
        now = time.perf_counter()
        if now - last >= interval:
            last = now
            rate = done[0] / max(now - start, 1e-9)
            of = f"/{total:,.0f}" if total else ""
            eta = f", ETA {_fmt_eta((total - done[0]) / rate)}" if total and rate > 0 else ""
            log.info("%s: %s%s %s (%.3g %s/s%s)", description, f"{done[0]:,.0f}", of, unit,
                     rate, unit, eta)

    log.info("%s: started%s", description, f" ({total:,.0f} {unit})" if total else "")
    yield advance
    elapsed = time.perf_counter() - start
    log.info("%s: done, %s %s in %s", description, f"{done[0]:,.0f}", unit, _fmt_eta(elapsed))
