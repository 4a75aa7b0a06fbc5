"""How a sweep scales: the same study in process (1 worker), on a local process pool and on
a Dask LocalCluster, with wall times, speed-ups, and a check that every backend stored
identical rows.

    uv run python benchmarks/bench_sweep.py                 # 200 runs, 1,000 systems x 200
    uv run python benchmarks/bench_sweep.py --runs 40 --steps 50   # a quick look

Start-up (forking a pool, starting a cluster and importing the model in its workers) is
timed apart from the sweep itself. On a machine shared with other work the timings are
noisy. So the table also gives the load average when each backend started, the mean wall
and CPU time of one run inside a worker (wall above CPU: the worker waited for a core), and
the cores the sweep actually got (CPU seconds of all runs per second of sweep).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pandas as pd

import simulation.model  # noqa: F401  (imported up front, as the pool workers have it)
from simulation.experiments.executors import process_pool
from simulation.experiments.runner import run_study
from simulation.experiments.store import TIMING_COLUMNS, load_runs
from simulation.experiments.study import Study
from simulation.experiments.study_file import parse_study
from simulation.reports.output import write_atomic


def make_study(runs: int, n_systems: int, steps: int) -> Study:
    """``runs`` runs: 10 audit rates x runs/10 replicates (runs must be a multiple of 10)."""
    if runs % 10:
        raise SystemExit("--runs must be a multiple of 10")
    return parse_study(
        {
            "name": "bench-sweep",
            "seed": 1,
            "replicates": runs // 10,
            "base": {"n_systems": n_systems, "steps": steps},
            "vary": {"audit_rate": {"range": [0.0, 0.45], "num": 10}},
        },
        "benchmark",
    )


def _warm_dask(client) -> None:
    def load() -> None:
        import simulation.experiments.runner  # noqa: F401
        import simulation.model  # noqa: F401

    client.run(load)


class _Dask(AbstractContextManager):
    """A LocalCluster of ``workers`` single-threaded worker processes and its executor."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def __enter__(self):
        from distributed import Client, LocalCluster

        self.cluster = LocalCluster(
            n_workers=self.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        )
        self.client = Client(self.cluster)
        _warm_dask(self.client)
        return self.client.get_executor(pure=False)

    def __exit__(self, *exc) -> None:
        self.client.close()
        self.cluster.close()


class _Pool(AbstractContextManager):
    def __init__(self, workers: int) -> None:
        self.workers = workers

    def __enter__(self):
        self.pool = process_pool(self.workers)
        return self.pool

    def __exit__(self, *exc) -> None:
        self.pool.shutdown()


def measure(
    name: str, backend: Callable[[], AbstractContextManager], workers: int, study: Study
) -> dict:
    """Time the start-up and the sweep of one backend into a fresh folder."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        with backend() as executor:
            ready = time.perf_counter()
            result = run_study(study, Path(tmp) / "out", executor, workers=workers)
            done = time.perf_counter()
        frame = load_runs(Path(tmp) / "out")
    assert len(frame) == result.total and (frame["status"] == "ok").all()
    return {
        "backend": name,
        "workers": workers,
        "startup_s": ready - start,
        "sweep_s": done - ready,
        "runs": result.total,
        "wall_per_run_s": float(frame["wall_time_s"].mean()),
        "cpu_per_run_s": float(frame["cpu_time_s"].mean()),
        "cores_used": float(frame["cpu_time_s"].sum()) / (done - ready),
        "load_before": load,
        "rows": frame.drop(columns=list(TIMING_COLUMNS)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--n-systems", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="pool and cluster size")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    study = make_study(args.runs, args.n_systems, args.steps)
    print(
        f"Sweep of {args.runs} runs, {args.n_systems} systems x {args.steps} cycles, "
        f"on {os.cpu_count()} cores"
    )
    results = [measure("in process", nullcontext, 1, study)]
    results.append(measure("process pool", lambda: _Pool(args.workers), args.workers, study))
    if not args.no_dask:
        results.append(
            measure("Dask LocalCluster", lambda: _Dask(args.workers), args.workers, study)
        )
    base = results[0]["sweep_s"]
    print(
        f"{'backend':<18} {'workers':>7} {'start-up s':>10} {'sweep s':>8} {'runs/s':>7} "
        f"{'speed-up':>8} {'cores used':>10} {'wall/run':>8} {'cpu/run':>8} {'load':>5}"
    )
    for r in results:
        print(
            f"{r['backend']:<18} {r['workers']:>7} {r['startup_s']:>10.1f} {r['sweep_s']:>8.1f} "
            f"{r['runs'] / r['sweep_s']:>7.1f} {base / r['sweep_s']:>7.2f}x "
            f"{r['cores_used']:>10.2f} {r['wall_per_run_s']:>8.3f} {r['cpu_per_run_s']:>8.3f} "
            f"{r['load_before']:>5.1f}"
        )
    reference = results[0]["rows"]
    for r in results[1:]:
        try:
            pd.testing.assert_frame_equal(reference, r["rows"])
        except AssertionError as exc:
            raise SystemExit(f"{r['backend']} stored different rows: {exc}") from None
    print("Stored rows identical on every backend (all columns but the timings).")
    if args.json:
        write_atomic(
            args.json,
            json.dumps([{k: v for k, v in r.items() if k != "rows"} for r in results], indent=2),
        )


if __name__ == "__main__":
    main()
