"""Run a study's missing runs on any ``concurrent.futures.Executor`` and store them.

One code path serves every executor: in process (``executor=None``), a local
``ProcessPoolExecutor``, or a Dask cluster's ``Client.get_executor()``. Each run builds the
model from its own configuration and seed, so a run gives the same row wherever it runs;
rows are stored sorted by run key, so the stored table does not depend on the executor
or the number of workers (only the timings ``wall_time_s`` and ``cpu_time_s`` differ).

A run that raises is stored as failed with its error and the study goes on. Finished runs
are written in small batches as they complete; on Ctrl-C (or ``SIGTERM``) the runs already
finished are written before :class:`StudyInterrupted` is raised, and running the study
again into the same folder runs only what is missing (failed runs are tried again). A run
the signal cut short is never stored, as failed or otherwise, even when the compiled
engine passes the interruption on as another exception (see :mod:`simulation.interrupts`).

A run the executor loses (its worker process killed, the pool broken, the cluster gone)
is not a failure of the model and is never stored as one: it is run again, on a renewed
pool if the executor can renew itself (:class:`~simulation.experiments.executors.LocalPool`),
up to :data:`MAX_ATTEMPTS` times. Runs still lost after that, or when the executor cannot
take work any more, end the study with :class:`RunsLost` once every finished run is
stored, so running it again resumes with exactly those runs.

Example:
    >>> from concurrent.futures import ProcessPoolExecutor  # doctest: +SKIP
    >>> with ProcessPoolExecutor(2) as pool:  # doctest: +SKIP
    ...     result = run_study(study, "results/demo", pool, workers=2)
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from simulation import interrupts
from simulation.config import SimulationConfig
from simulation.experiments.design import Plan, RunSpec, check_runs, make_plan
from simulation.experiments.store import OUTCOMES, STATUS_FAILED, STATUS_OK, StudyStore
from simulation.experiments.study import Study, StudyError
from simulation.resources import memory_estimate, memory_problem

ERROR_LIMIT = 500
MAX_ATTEMPTS = 3
"""How often a run lost by the executor is submitted before it is left for a resume."""
MAX_RENEWALS = 10
"""How often a broken local pool is replaced in one study before the study gives up."""
PART_SECONDS = 0.5
"""Least time between two parts written because enough runs finished."""


@dataclass
class RunOutput:
    """The stored row of one run and, if asked for, its per-step series."""

    row: dict[str, Any]
    series: pd.DataFrame | None = None

    @property
    def failed(self) -> bool:
        return self.row["status"] != STATUS_OK


def _base_row(spec: RunSpec) -> dict[str, Any]:
    return {
        "run_key": spec.key,
        "arm": spec.arm,
        "scenario": spec.scenario,
        "replicate": spec.replicate,
        "seed": spec.seed,
        **spec.config,
    }


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text if len(text) <= ERROR_LIMIT else text[: ERROR_LIMIT - 3] + "..."


def _failed(
    spec: RunSpec, error: str, wall: float = float("nan"), cpu: float = float("nan")
) -> RunOutput:
    row = _base_row(spec)
    row.update({"status": STATUS_FAILED, "error": error, "wall_time_s": wall, "cpu_time_s": cpu})
    row.update({name: None for name in OUTCOMES})
    return RunOutput(row)


def execute_run(spec: RunSpec, timeseries: bool = False) -> RunOutput:
    """Build, run and summarise one model; an exception becomes a failed row, not a crash.

    An interruption is not the run's failure: a ``KeyboardInterrupt`` (however the compiled
    engine wraps it), or a signal caught while the run ran, raises
    :class:`~simulation.interrupts.Interrupted` and the run gives no row.
    """
    from simulation.model import PeerPreservationModel  # heavy import, deferred to workers

    signals = interrupts.received()
    start, cpu = time.perf_counter(), time.thread_time()
    try:
        model = PeerPreservationModel(
            SimulationConfig(**spec.config), rng=spec.seed, agent_views=False
        )
        model.run()
        outcomes = model.outcomes()
        series = None
        if timeseries:
            series = model.timeseries()
            series.insert(0, "replicate", spec.replicate)
            series.insert(0, "scenario", spec.scenario)
            series.insert(0, "arm", spec.arm)
            series.insert(0, "run_key", spec.key)
    except Exception as exc:  # a failing run is recorded, the study goes on
        if interrupts.is_interruption(exc, signals):
            raise interrupts.Interrupted(interrupts.signal_of(exc)) from exc
        return _failed(
            spec, _error_text(exc), time.perf_counter() - start, time.thread_time() - cpu
        )
    if interrupts.received() != signals:  # a signal the engine swallowed: the run may be cut
        raise interrupts.Interrupted(interrupts.signal_of())
    row = _base_row(spec)
    row.update(
        {
            "status": STATUS_OK,
            "error": None,
            "wall_time_s": time.perf_counter() - start,
            "cpu_time_s": time.thread_time() - cpu,
        }
    )
    row.update({name: _number(outcomes.get(name)) for name in OUTCOMES})
    return RunOutput(row, series)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if np.isnan(value) else value


def execute_batch(specs: Sequence[RunSpec], timeseries: bool = False) -> list[RunOutput]:
    """Run several runs in one task (fewer round trips to a pool or a cluster)."""
    return [execute_run(spec, timeseries) for spec in specs]


class Progress(Protocol):
    """What the runner reports to a progress display."""

    def start(self, total: int, skipped: int, retried: int) -> None: ...

    def advance(self, failed: bool) -> None: ...


@dataclass
class StudyResult:
    """What a call of :func:`run_study` did, and every stored row (in run-key order)."""

    study: Study
    out_dir: Path
    total: int
    skipped: int
    retried: int
    ran: int
    failed: int
    frame: pd.DataFrame
    plan: Plan

    @property
    def failed_total(self) -> int:
        return int((self.frame["status"] != STATUS_OK).sum())


class StudyInterrupted(Exception):
    """The study was stopped (Ctrl-C, or ``signum``); every finished run is stored and it
    can resume."""

    def __init__(self, out_dir: Path, stored: int, total: int, signum: int = 2) -> None:
        self.out_dir, self.stored, self.total = out_dir, stored, total
        self.signum = signum
        super().__init__(
            f"interrupted: {stored} of {total} runs are stored in {out_dir}; run the same "
            "command again to resume"
        )


class RunsLost(Exception):
    """The executor lost runs it could not run again; every finished run is stored."""

    def __init__(self, out_dir: Path, stored: int, total: int, lost: int, reason: str) -> None:
        self.out_dir, self.stored, self.total, self.lost = out_dir, stored, total, lost
        self.reason = reason
        super().__init__(
            f"{lost} runs could not run ({reason}); {stored} of {total} runs are stored in "
            f"{out_dir}; run the same command again to resume"
        )


class _Lost(Exception):
    """Internal: the executor lost runs for good (the last error seen)."""


class _Collector:
    """Buffers finished runs and writes them as parts every few seconds or rows, but not
    within :data:`PART_SECONDS` of the last part: writing one costs the main process about
    15 ms that its workers could use, so a study of many fast runs writes a few parts."""

    def __init__(
        self, store: StudyStore, progress: Progress | None, seconds: float, rows: int
    ) -> None:
        self.store, self.progress = store, progress
        self.seconds, self.rows = seconds, rows
        self.buffer: list[RunOutput] = []
        self.last = time.monotonic()
        self.ran = self.failed = 0

    def add(self, outputs: list[RunOutput]) -> None:
        for out in outputs:
            self.buffer.append(out)
            self.ran += 1
            self.failed += out.failed
            if self.progress is not None:
                self.progress.advance(out.failed)

    def maybe_flush(self) -> None:
        since = time.monotonic() - self.last
        full = len(self.buffer) >= self.rows and since >= PART_SECONDS
        if self.buffer and (full or since >= self.seconds):
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.store.append([o.row for o in self.buffer], [o.series for o in self.buffer])
            self.buffer.clear()
        self.last = time.monotonic()


def _chunks(runs: list[RunSpec], size: int) -> list[list[RunSpec]]:
    return [runs[i : i + size] for i in range(0, len(runs), size)]


def _check_memory(plan: Plan) -> None:
    """Refuse a study whose largest run would not fit in memory, before anything runs."""
    sizes = {
        (run.config["n_systems"], run.config["mean_degree"], run.config["topology"])
        for run in plan.runs
    }
    if not sizes:
        return
    largest = max(sizes, key=lambda size: memory_estimate(*size))
    problem = memory_problem(*largest)
    if problem:
        raise StudyError(f"{plan.study.origin or plan.study.name}: {problem}")


def run_study(
    study: Study,
    out_dir: str | Path,
    executor: Executor | None = None,
    *,
    workers: int = 1,
    progress: Progress | None = None,
    flush_seconds: float = 2.0,
    flush_rows: int | None = None,
) -> StudyResult:
    """Run every run of ``study`` not yet stored in ``out_dir``; return all stored rows.

    Args:
        study: a validated study.
        out_dir: the results folder (created; refused if it holds another study).
        executor: where runs execute; ``None`` runs them one by one in this process.
        workers: how many runs the executor runs at once (sizes batches and the queue).
        progress: receives ``start`` once and ``advance`` per finished run.
        flush_seconds, flush_rows: write finished runs at least this often (default rows:
            a twentieth of the study, between 1 and 500, so an interrupted study loses
            little and a large one does not write thousands of files).

    Raises:
        StudyError: invalid study or folder (nothing runs).
        StudyInterrupted: Ctrl-C (or SIGTERM in the command line); finished runs are stored.
        RunsLost: the executor lost runs even after running them again; finished runs are
            stored and a resume runs the rest.
    """
    plan = make_plan(study)
    check_runs(plan)
    _check_memory(plan)
    out_dir = Path(out_dir)
    with StudyStore.open(out_dir, study) as store:
        retried = store.drop_failed()
        stored = store.stored_status()
        pending = [run for run in plan.runs if run.key not in stored]
        skipped = len(plan.runs) - len(pending)
        if progress is not None:
            progress.start(len(plan.runs), skipped, retried)
        rows = flush_rows or min(500, max(1, len(plan.runs) // 20))
        total = len(plan.runs)
        try:
            ran, failed = execute_pending(
                store, pending, executor, workers, study.timeseries, progress, flush_seconds, rows
            )
        except PendingInterrupted as stop:
            raise StudyInterrupted(out_dir, skipped + stop.ran, total, stop.signum) from None
        except PendingLost as lost:
            stored_now = skipped + lost.ran
            raise RunsLost(out_dir, stored_now, total, total - stored_now, lost.reason) from None
        store.check_inputs_unchanged()
        frame = store.load()
    return StudyResult(study, out_dir, total, skipped, retried, ran, failed, frame, plan)


class PendingInterrupted(Exception):
    """:func:`execute_pending` was stopped by a signal after storing ``ran`` runs."""

    def __init__(self, ran: int, signum: int) -> None:
        self.ran, self.signum = ran, signum
        super().__init__(f"interrupted after {ran} runs")


class PendingLost(Exception):
    """:func:`execute_pending`'s executor lost runs for good after ``ran`` were stored."""

    def __init__(self, ran: int, reason: str) -> None:
        self.ran, self.reason = ran, reason
        super().__init__(reason)


def execute_pending(
    store: StudyStore,
    pending: Sequence[RunSpec],
    executor: Executor | None,
    workers: int,
    timeseries: bool,
    progress: Progress | None,
    flush_seconds: float = 2.0,
    flush_rows: int = 500,
) -> tuple[int, int]:
    """Run ``pending`` on ``executor`` (``None``: in this process) and store every finished
    run in ``store``; return how many ran and how many of them failed.

    Raises:
        PendingInterrupted: Ctrl-C or SIGTERM; the finished runs are stored first.
        PendingLost: the executor lost runs even after running them again; the finished
            runs are stored.
    """
    collector = _Collector(store, progress, flush_seconds, flush_rows)
    try:
        with interrupts.handled():
            if executor is None:
                for spec in pending:
                    collector.add([execute_run(spec, timeseries)])
                    collector.maybe_flush()
            else:
                _run_on(executor, list(pending), timeseries, collector, max(1, workers))
    except KeyboardInterrupt as stop:
        with interrupts.deferred():  # a second Ctrl-C does not lose the finished runs
            collector.flush()
        raise PendingInterrupted(collector.ran, interrupts.signal_of(stop)) from None
    except _Lost as lost:
        collector.flush()
        raise PendingLost(collector.ran, str(lost)) from None
    collector.flush()
    return collector.ran, collector.failed


def _run_on(
    executor: Executor,
    pending: list[RunSpec],
    timeseries: bool,
    collector: _Collector,
    workers: int,
) -> None:
    """Keep a bounded queue of batches on the executor and collect them as they finish.

    A batch whose future raises was lost by the executor (a model error is a failed row,
    never an exception): it goes back in the queue until :data:`MAX_ATTEMPTS`. A broken
    pool is renewed once per breakage (the futures of a pool remember which pool ran them).
    An executor whose ``failure()`` names a reason (a Dask client that lost its scheduler)
    can finish nothing more: the study stops.

    Raises:
        _Lost: the executor lost runs for good (raised once the others finished, or at
            once if it takes no more work).
    """
    size = max(1, min(8, len(pending) // (workers * 16)))
    queue = deque((batch, 1) for batch in _chunks(pending, size))
    in_flight: dict[Future, tuple[list[RunSpec], int, int]] = {}
    renew = getattr(executor, "renew", None)
    generation, lost, reason = 0, 0, ""

    def renewed(exc: BaseException) -> None:
        """Replace a broken pool, or give up if it cannot be (or keeps breaking)."""
        nonlocal generation
        if renew is None or generation >= MAX_RENEWALS:
            raise _Lost(_error_text(exc))
        renew()
        generation += 1

    try:
        while queue or in_flight:
            while queue and len(in_flight) < 2 * workers + 1:
                batch, attempt = queue.popleft()
                try:
                    future = executor.submit(execute_batch, batch, timeseries)
                except Exception as exc:  # the executor takes no more work
                    queue.appendleft((batch, attempt))
                    if not isinstance(exc, BrokenExecutor):
                        failure = getattr(executor, "failure", None)
                        why = failure() if failure is not None else None
                        raise _Lost(why or _error_text(exc)) from None
                    renewed(exc)
                    continue
                in_flight[future] = (batch, attempt, generation)
            done, _ = wait(list(in_flight), timeout=collector.seconds, return_when=FIRST_COMPLETED)
            failure = getattr(executor, "failure", None)
            if not done and failure is not None and (reason := failure()):
                raise _Lost(reason)
            for future in done:
                batch, attempt, ran_on = in_flight.pop(future)
                try:
                    outputs = future.result()
                except Exception as exc:  # lost by the executor: not a failure of the model
                    reason = _error_text(exc)
                    if attempt < MAX_ATTEMPTS:
                        queue.append((batch, attempt + 1))
                    else:
                        lost += len(batch)
                    if isinstance(exc, BrokenExecutor) and ran_on == generation:
                        renewed(exc)
                    continue
                collector.add(outputs)
            collector.maybe_flush()
    except BaseException as stop:
        for future in list(in_flight):
            if future.done() and not future.cancelled() and future.exception() is None:
                collector.add(future.result())
            elif not isinstance(stop, _Lost):  # a lost executor cannot cancel anything
                future.cancel()
        raise
    if lost:
        raise _Lost(reason)
