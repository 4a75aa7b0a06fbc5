"""Where a study's runs execute: in process, a local process pool, or a Dask cluster.

All three give :func:`~simulation.experiments.runner.run_study` a
``concurrent.futures.Executor`` (or ``None`` for in-process), so the runner has one code
path. Remote Dask workers need ppsim installed, since they import
``simulation.experiments.runner`` to run a batch.

Example:
    >>> with open_executor(workers=2) as (executor, slots, label):  # doctest: +SKIP
    ...     run_study(study, "results/demo", executor, workers=slots)
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager

from simulation.experiments.study import StudyError


def available_cores() -> int:
    """Cores this process may use (respects CPU affinity and container limits)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the main process, which stores what finished and stops them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _noop() -> None:
    return None


def _context() -> multiprocessing.context.BaseContext | None:
    """Fork on Linux when this process has no other threads (workers start at once, the
    model already imported); otherwise a fork server that imports the model once."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["simulation.experiments.runner", "simulation.model"])
        return context
    return None


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A local pool of ``workers`` processes, started now, before any progress-display
    thread exists."""
    pool = ProcessPoolExecutor(workers, mp_context=_context(), initializer=_ignore_sigint)
    with warnings.catch_warnings():
        # Forking is chosen only without other Python threads; the native libraries' own
        # threads (BLAS, Arrow's allocator) are fork-safe, so Python's generic warning is moot.
        warnings.filterwarnings("ignore", r".*multi-threaded.*fork", DeprecationWarning)
        pool.submit(_noop).result()  # launch the worker processes up front
    return pool


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel queued work and end the workers now (runs in flight are not stored anyway)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


@contextmanager
def open_executor(
    workers: int | None = None, scheduler: str | None = None
) -> Iterator[tuple[Executor | None, int, str]]:
    """Yield ``(executor, slots, label)`` for the chosen backend and close it afterwards.

    Args:
        workers: local worker processes (default: every available core); 1 runs in process.
        scheduler: address of a running Dask scheduler (``tcp://HOST:PORT``); overrides
            ``workers``.
    """
    if scheduler:
        yield from _dask(scheduler)
        return
    n = workers if workers is not None else available_cores()
    if n < 1:
        raise StudyError(f"--workers: expected an integer >= 1, got {n}")
    if n == 1:
        yield None, 1, "1 worker (in this process)"
        return
    pool = process_pool(n)
    try:
        yield pool, n, f"{n} local worker processes"
    except BaseException:
        _stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def _dask(address: str) -> Iterator[tuple[Executor, int, str]]:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        raise StudyError("--scheduler: the 'distributed' package is not installed") from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise StudyError(f"--scheduler {address}: cannot connect ({exc})") from None
    try:
        slots = max(1, sum(client.nthreads().values()))
        executor = client.get_executor(pure=False)
        try:
            yield executor, slots, f"Dask cluster at {address} ({slots} worker threads)"
        except BaseException:
            executor.shutdown(wait=False)
            raise
    finally:
        client.close()
