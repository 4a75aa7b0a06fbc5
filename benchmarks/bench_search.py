"""How fast a search runs: candidates and runs per second on 1 and 2 workers, the speed-up,
the search's own overhead (optimiser, scoring, store) measured with runs that cost
nothing, and a check that both worker counts found the same front.

    uv run python benchmarks/bench_search.py          # the shipped search, 3 generations
    uv run python benchmarks/bench_search.py --generations 2 --set n_systems=300 --set steps=100
    uv run python benchmarks/bench_search.py --json bench-search.json

Start-up (forking the pool, importing the model in its workers) is timed apart from the
search itself.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

import simulation.model  # noqa: F401  (imported up front, as the pool workers have it)
from simulation.config import parse_assignment
from simulation.experiments import runner
from simulation.experiments.executors import LocalPool
from simulation.experiments.search import run_search
from simulation.experiments.study import Study
from simulation.experiments.study_file import Overrides, load_study
from simulation.reports.output import write_atomic

DEFAULT_STUDY = Path(__file__).resolve().parents[1] / "experiments" / "policy-search.toml"


def load(path: Path, generations: int, population: int | None, changes: list[str]) -> Study:
    settings = {"generations": generations}
    if population:
        settings["population"] = population
    values = dict(parse_assignment(item) for item in changes)
    return load_study(path, Overrides(set_values=values, search=settings))


def timed_search(study: Study, workers: int) -> dict:
    """One search into a new folder; wall time of the search alone (pool already up)."""
    with tempfile.TemporaryDirectory() as folder:
        pool = LocalPool(workers) if workers > 1 else None
        try:
            if pool is not None:  # start the workers before the clock
                list(pool.map(abs, range(workers)))
            start = time.perf_counter()
            result = run_search(study, Path(folder) / "out", pool, workers=workers)
            wall = time.perf_counter() - start
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        runs = result.ran
        candidates = len(result.candidates)
        return {
            "workers": workers,
            "wall_s": wall,
            "candidates": candidates,
            "runs": runs,
            "candidates_per_s": candidates / wall,
            "runs_per_s": runs / wall,
            "front": result.front,
        }


def instant_run(spec, timeseries=False):
    """A run that costs nothing: every outcome a function of the configuration."""
    row = runner._base_row(spec)
    row.update({"status": "ok", "error": None, "wall_time_s": 0.0, "cpu_time_s": 0.0})
    row.update(dict.fromkeys(runner.OUTCOMES, 0.0))
    row["human_hours_per_cycle"] = 100 * spec.config["audit_rate"] + spec.seed % 7
    row["faulty_share_mean"] = (0.5 - spec.config["audit_rate"]) ** 2 + spec.config[
        "egress_control"
    ]
    return runner.RunOutput(row)


def overhead(study: Study) -> dict:
    """The search with runs that cost nothing, in process: its own time per candidate."""
    real = runner.execute_run
    runner.execute_run = instant_run
    try:
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            result = run_search(study, Path(folder) / "out")
            wall = time.perf_counter() - start
    finally:
        runner.execute_run = real
    candidates = len(result.candidates)
    return {"wall_s": wall, "candidates": candidates, "ms_per_candidate": 1000 * wall / candidates}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, default=DEFAULT_STUDY)
    parser.add_argument("--generations", type=int, default=3)
    parser.add_argument("--population", type=int, default=None)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    study = load(args.study, args.generations, args.population, args.set)
    print(
        f"search {study.name}: {study.search.population} candidates x "
        f"{args.generations} generations, {study.samples} scenarios x {study.replicates} "
        f"replicates, {study.base.n_systems} systems x {study.base.steps} cycles; "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
    )
    rows = [timed_search(study, workers) for workers in (1, 2)]
    same = rows[0]["front"].equals(rows[1]["front"])
    base = rows[0]["wall_s"]
    table = pd.DataFrame(
        [
            {
                "workers": r["workers"],
                "wall (s)": round(r["wall_s"], 2),
                "candidates": r["candidates"],
                "runs": r["runs"],
                "candidates/s": round(r["candidates_per_s"], 2),
                "runs/s": round(r["runs_per_s"], 1),
                "speed-up": round(base / r["wall_s"], 2),
            }
            for r in rows
        ]
    )
    print(table.to_string(index=False))
    print(f"same front on 1 and 2 workers: {same}")
    cost = overhead(study)
    print(
        f"the search's own overhead (runs that cost nothing, in process): "
        f"{cost['ms_per_candidate']:.1f} ms per candidate ({cost['candidates']} candidates "
        f"in {cost['wall_s']:.2f} s)"
    )
    if args.json:
        figures = {
            "runs": [{k: v for k, v in r.items() if k != "front"} for r in rows],
            "same_front": same,
            "overhead": cost,
            "load": os.getloadavg()[0],
        }
        write_atomic(args.json, json.dumps(figures, indent=2))
    if not same:
        raise SystemExit("the fronts differ between 1 and 2 workers")


if __name__ == "__main__":
    main()
