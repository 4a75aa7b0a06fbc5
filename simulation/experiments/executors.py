"""Where a study's runs execute: in process, a local process pool, or a Dask cluster.

All three give :func:`~simulation.experiments.runner.run_study` a
``concurrent.futures.Executor`` (or ``None`` for in-process), so the runner has one code
path. Remote Dask workers need ppsim installed, since they import
``simulation.experiments.runner`` to run a batch.

The local pool is a :class:`LocalPool`: when one of its worker processes dies (killed, out
of memory), the pool is broken for good, so the runner asks it to :meth:`~LocalPool.renew`
itself and runs the lost runs again. A ``SIGTERM`` to the command stops the workers as
Ctrl-C does, and workers end with the command however it ends, so none is left behind.

Example:
    >>> with open_executor(workers=2) as (executor, slots, label):  # doctest: +SKIP
    ...     run_study(study, "results/demo", executor, workers=slots)
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from simulation import interrupts
from simulation.experiments.study import StudyError


def available_cores() -> int:
    """Cores this process may use (respects CPU affinity and container limits)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_PR_SET_PDEATHSIG = 1


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the main process, which stores what finished and stops them,
    and ask Linux to kill them when the main process dies (even by ``kill -9``), so no
    worker is ever orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the main process's handler
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # no prctl in this libc
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


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
    context = _context()
    if context is not None and context.get_start_method() == "fork":
        from simulation.model import load_engine

        load_engine()  # forked workers inherit the loaded engine
        # ... and every object the imports made: frozen, the workers' garbage collections
        # skip them instead of walking them (and copying their memory pages) again and again
        gc.freeze()
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_ignore_sigint)
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
        if process.is_alive():  # pragma: no cover - a worker stuck in native code
            process.kill()
            process.join(timeout=5)


class LocalPool(Executor):
    """A local process pool that can replace itself after a worker process dies.

    A ``ProcessPoolExecutor`` whose worker is killed is broken: every future fails with
    ``BrokenProcessPool`` and it accepts no more work. :meth:`renew` stops what is left of
    it and starts a fresh pool of the same size, so the runner can run the lost runs again.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = process_pool(workers)
        self.renewals = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return self.pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def stop(self) -> None:
        """End the workers now (Ctrl-C, SIGTERM, an error)."""
        _stop_pool(self.pool)

    def renew(self) -> None:
        """Replace a broken pool by a new one of the same size."""
        _stop_pool(self.pool)
        self.pool = process_pool(self.workers)
        self.renewals += 1


def sigterm_as_interrupt() -> contextlib.AbstractContextManager[None]:
    """Within the block, ``SIGTERM`` (a plain ``kill``) stops the command as Ctrl-C does:
    finished runs are stored and the workers stopped (exit code 143 rather than 130). Only
    in the main thread; see :func:`simulation.interrupts.handled`."""
    return interrupts.handled()


FAR_ABOVE_CORES = 2
"""``--workers`` above this many times the available cores is capped at the cores: more
processes than cores only share them, each with its own memory."""


def worker_count(workers: int | None, scheduler: str | None, runs: int) -> tuple[int | None, str]:
    """The local workers to start for a study of ``runs`` runs, and a note if that is not
    the ``workers`` asked for: never more than the runs (the others would wait idle), nor,
    when far above the cores (:data:`FAR_ABOVE_CORES`), more than the cores. The default
    (every core) is capped at the runs without a note. With ``scheduler`` the cluster's
    workers run the study, so ``workers`` is refused."""
    if scheduler and workers is not None:
        raise StudyError(
            "--workers: not used with --scheduler (the cluster's workers run the study); "
            "leave one of them out"
        )
    if scheduler or workers is not None and workers < 1:
        return workers, ""  # open_executor refuses a count below 1
    cores = available_cores()
    count = min(workers if workers is not None else cores, max(1, runs))
    why = f"the study has {runs} run{'s' if runs != 1 else ''}"
    if workers is not None and workers > FAR_ABOVE_CORES * cores and count > cores:
        count, why = cores, f"{cores} core{'s are' if cores != 1 else ' is'} available"
    if workers is None or count == workers:
        return count, ""
    return count, f"--workers {workers}: using {count}, as {why}"


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
    n = workers if workers is not None else available_cores()
    if scheduler is not None and not scheduler.strip():
        raise StudyError(
            "--scheduler: empty; give tcp://HOST:PORT of a running Dask scheduler, or leave "
            "--scheduler out to run on this machine"
        )
    if not scheduler and n < 1:
        raise StudyError(f"--workers: expected an integer >= 1, got {n}")
    with sigterm_as_interrupt():
        if scheduler:
            yield from _dask(scheduler)
        elif n == 1:
            yield None, 1, "1 worker (in this process)"
        else:
            pool = LocalPool(n)
            try:
                yield pool, n, f"{n} local worker processes"
            except BaseException:
                pool.stop()
                raise
            pool.shutdown(wait=True)


def _dask(address: str) -> Iterator[tuple[Executor, int, str]]:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        raise StudyError("--scheduler: the 'distributed' package is not installed") from None
    from simulation.experiments.scheduler import check_scheduler

    url = check_scheduler(address)  # one line, within seconds, for an address Dask cannot use
    try:
        client = Client(url, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise StudyError(f"--scheduler {address}: cannot connect ({exc})") from None
    try:
        slots = max(1, sum(client.nthreads().values()))
        executor = DaskExecutor(client, address)
        with _quiet_loggers(_DASK_LOSS_LOGGERS):
            try:
                yield executor, slots, f"Dask cluster at {address} ({slots} worker threads)"
            except BaseException:
                executor.shutdown(wait=False)
                raise
            finally:
                with contextlib.suppress(Exception):  # a client whose scheduler is gone
                    client.close()
    finally:
        with contextlib.suppress(Exception):
            client.close()


# Loggers that print tracebacks of a lost scheduler; the runner reports the loss itself.
_DASK_LOSS_LOGGERS = ("distributed.client", "tornado.application")


@contextmanager
def _quiet_loggers(names: tuple[str, ...]) -> Iterator[None]:
    """Only critical messages from these loggers within the block."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class DaskExecutor(Executor):
    """A Dask client's executor that can tell when the cluster is lost.

    Dask re-runs the tasks of a worker that dies, but when the scheduler goes the client
    closes and its futures are never resolved; :meth:`failure` lets the runner notice and
    stop (leaving the missing runs for a resume) instead of waiting for ever.
    """

    def __init__(self, client: Any, address: str) -> None:
        self.client, self.address = client, address
        self.executor = client.get_executor(pure=False)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return self.executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with contextlib.suppress(Exception):  # cancelling needs the scheduler, maybe gone
            self.executor.shutdown(wait=wait)

    def failure(self) -> str | None:
        """Why no submitted task can finish any more (the client closed), or ``None``."""
        status = str(getattr(self.client, "status", "running"))
        if status in ("closing", "closed", "failed"):
            return f"lost the Dask scheduler at {self.address} (client {status})"
        return None
