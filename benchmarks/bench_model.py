"""Speed benchmark: the vectorised model against a plain object-per-agent Mesa model.

For each network size and topology it measures, for both implementations, the time to
build the network and the model, the mean time of an oversight cycle (step), agent-steps
per second and the peak resident memory, then checks the project's targets:

* 1,000,000 systems build in < 10 s, step in < 0.1 s and stay under 2 GB (vectorised);
* the vectorised model does >= 50x the agent-steps/s of the reference at 1,000 systems,
  >= 100x at 10,000 and >= 200x at 1,000,000 (the worse of the two timing windows).

Every measurement runs in a fresh Python process, so that one model's memory peak does not
hide another's and each build starts from a cold interpreter. Cycles are timed in two
windows: from the start (cycle 1, which pays one-off costs, left out) and after a warm-up,
when faults have spread to their steady level. Up to 100,000 systems the vectorised model
runs each window in one call of ``model.advance`` (as ``model.run()`` runs its cycles),
the reference one ``step()`` per cycle. The reference
(``benchmarks/reference_mesa.py``) takes seconds per cycle at large sizes, so there it is
timed over a few cycles from the start only. Speed ratios compare the same cycles of both.

Run:
    uv run python benchmarks/bench_model.py                  # 10,000 and 1,000,000 systems
    uv run python benchmarks/bench_model.py --quick          # 10,000 systems, under a minute
    uv run python benchmarks/bench_model.py --sizes 10000,100000 --steps 10 --json out.json
"""

from __future__ import annotations

import gc
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from simulation.config import TOPOLOGIES
from simulation.engine.kernels import PHASE_BITS, PHASES
from simulation.reports.output import write_atomic

ROOT = Path(__file__).resolve().parents[1]
VECTORISED, REFERENCE = "vectorised", "reference"
MEAN_DEGREE = 8.0
LARGE = 100_000  # above this size the reference is timed over --reference-steps cycles

TARGET_N = 1_000_000
TARGET_BUILD_S = 10.0
TARGET_STEP_S = 0.1
TARGET_RSS_MB = 2000.0  # 2 GB = 2e9 bytes
#: systems -> least speed-up over the reference, the worse of the two windows
TARGET_RATIOS = {1_000: 50.0, 10_000: 100.0, 1_000_000: 200.0}

#: what ``--phases`` times: the overseer rotation and the room in the metric tables
#: (Python), then each phase of the compiled cycle called on its own
ENGINE_PHASES = ("_rotations_ahead", "_reserve_rows", *PHASES)

console = Console(width=None if sys.stdout.isatty() else 200)
errors = Console(stderr=True, soft_wrap=True)
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


# --- one measurement (runs in its own process) ------------------------------------------------
def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (1e6 bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6


def _time_phases(engine: Any, totals: dict[str, list[float]]) -> None:
    """Make this engine instance step one compiled call per phase and record each call's
    time, and those of the rotation and of making room in the metric tables, under its name."""

    def timed(name: str, method: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            result = method(*args, **kwargs)
            totals[name].append(time.perf_counter() - start)
            return result

        return call

    run = engine._run
    for name in ("_rotations_ahead", "_reserve_rows"):
        setattr(engine, name, timed(name, getattr(engine, name)))
    name_of = {bit: name for name, bit in PHASE_BITS.items()}
    engine._run = lambda mask, count, **kw: timed(name_of[mask], run)(mask, count, **kw)
    one_call_per_phase = list(PHASE_BITS.values())

    def run_cycles(count: int) -> None:
        for _ in range(count):
            engine.step_phases(*one_call_per_phase)

    engine.run_cycles = run_cycles


def _window(values: list[float], start: int, count: int) -> list[float]:
    return values[start : start + count]


def _cycle_times(model: Any, count: int, batched: bool) -> list[float]:
    """Run ``count`` cycles; each one's time (the mean of the batch when ``batched``)."""
    if batched and count:
        start = time.perf_counter()
        model.advance(count)
        return [(time.perf_counter() - start) / count] * count
    spent = []
    for _ in range(count):
        start = time.perf_counter()
        model.step()
        spent.append(time.perf_counter() - start)
    return spent


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Build one model, step it, and return its timings and memory peak.

    ``spec`` has ``impl`` (vectorised or reference), ``n``, ``topology``, ``steps`` (cycles
    per timed window), ``steady_from`` (also time ``steps`` cycles after this many; 0 =
    not), ``phases`` (vectorised only: time each phase of the engine) and ``seed``. Every
    cycle's time is returned as well as the windows' summaries.
    """
    import numpy as np

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from benchmarks.reference_mesa import ReferenceMesaModel
    from simulation.config import SimulationConfig
    from simulation.model import PeerPreservationModel
    from simulation.topology import build_network

    impl, n, steps, seed = spec["impl"], spec["n"], spec["steps"], spec["seed"]
    steady_from = max(spec["steady_from"], 1 + steps) if spec["steady_from"] else 0
    total = steady_from + steps if steady_from else 1 + steps
    config = SimulationConfig(
        **spec.get("overrides", {}),
        n_systems=n,
        topology=spec["topology"],
        mean_degree=MEAN_DEGREE,
        steps=total,
    )
    model_class = PeerPreservationModel if impl == VECTORISED else ReferenceMesaModel
    # Both models build their network with compiled code; loading it is a once-per-process
    # cost (like the imports), paid here before the build is timed.
    build_network("erdos-renyi", 20, 4.0, np.random.default_rng(0))
    gc.collect()
    baseline = peak_rss_mb()
    start = time.perf_counter()
    model = model_class(config, rng=seed)
    build_s = time.perf_counter() - start
    phases: dict[str, list[float]] = defaultdict(list)
    if impl == VECTORISED and spec.get("phases"):
        _time_phases(model.engine, phases)
    # Up to LARGE systems the compiled model runs as model.run() runs it, many cycles per
    # compiled call (model.advance), and each cycle of a timed window gets the window's
    # mean; beyond, a call's cost (about 10 us) is lost in the cycle's, and stepping one
    # cycle at a time keeps each cycle's own time (the reference is timed over fewer).
    batched = impl == VECTORISED and not spec.get("phases") and n <= LARGE
    times = _cycle_times(model, 1, batched) + _cycle_times(model, steps, batched)
    if steady_from:
        times += _cycle_times(model, steady_from - 1 - steps, batched)
        times += _cycle_times(model, steps, batched)
    peak = peak_rss_mb()
    faulty_share = model.timeseries()["faulty_share"].tolist()
    del model
    gc.collect()
    start = time.perf_counter()
    build_network(config.topology, n, MEAN_DEGREE, np.random.default_rng(seed))
    network_s = time.perf_counter() - start
    first = _window(times, 1, steps)
    steady = _window(times, steady_from, steps) if steady_from else []
    phase_start = steady_from or 1
    return {
        **spec,
        "steady_from": steady_from,
        "build_s": build_s,
        "network_s": network_s,
        "step_times_s": times,
        "step_s": float(np.mean(first)),
        "step_median_s": float(np.median(first)),
        "step_steady_s": float(np.mean(steady)) if steady else None,
        "agent_steps_per_s": n / float(np.mean(first)),
        "peak_rss_mb": peak,
        "baseline_rss_mb": baseline,
        "faulty_share": faulty_share,
        "phase_ms": {
            name: 1000 * float(np.mean(_window(values, phase_start, steps)))
            for name, values in phases.items()
        },
    }


# --- orchestration ------------------------------------------------------------------------
def fail(message: str) -> None:
    """One clear error line on stderr and exit code 2."""
    errors.print(f"Error: {message}", style="red", markup=False, highlight=False)
    raise typer.Exit(2)


def parse_sizes(text: str) -> list[int]:
    """``10000,1000000`` (underscores allowed) to a list of sizes of at least 2."""
    sizes = []
    for item in text.split(","):
        item = item.strip().replace("_", "")
        if not item.isdigit() or int(item) < 2:
            fail(f"--sizes: {item!r} is not a whole number of systems >= 2; e.g. 10000,1000000")
        sizes.append(int(item))
    return sizes


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``--set name=value`` items to validated config values (the benchmark's own
    dimensions, size, topology, mean degree and cycles, are set by its options)."""
    from simulation.config import ConfigError, SimulationConfig, parse_assignment

    own = {
        "n_systems": "--sizes",
        "topology": "--topologies",
        "mean_degree": "",
        "steps": "--steps",
    }
    overrides: dict[str, Any] = {}
    try:
        for item in items:
            name, value = parse_assignment(item)
            if name in own:
                how = (
                    f"use {own[name]}" if own[name] else f"the benchmark fixes it at {MEAN_DEGREE}"
                )
                fail(f"--set {name}: {how}")
            overrides[name] = value
        SimulationConfig(**overrides)
    except ConfigError as error:
        fail(str(error))
    return overrides


def parse_topologies(text: str) -> list[str]:
    """Comma-separated topology names, each one the generator knows (not 'file')."""
    allowed = [t for t in TOPOLOGIES if t != "file"]
    names = [t.strip() for t in text.split(",") if t.strip()]
    for name in names or [""]:
        if name not in allowed:
            fail(f"--topologies: {name!r} is not allowed; use one or more of {', '.join(allowed)}")
    return names


def run_worker(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run :func:`measure` in a fresh interpreter and return its result (or the error)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False
        )
    except subprocess.TimeoutExpired:
        return {**spec, "error": f"timed out after {timeout:g} s"}
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        return {**spec, "error": f"exit {done.returncode}: {lines[-1]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine_info() -> dict[str, Any]:
    """What the figures were measured on (CPU, memory, load, versions)."""
    import mesa
    import numpy as np

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError, AttributeError):
        memory_gb = float("nan")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_gb, 1),
        "load_average_at_start": os.getloadavg(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mesa": mesa.__version__,
    }


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def ratio_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reference/vectorised step time per (topology, size), over cycles both models timed.

    ``speedup`` compares mean step times over cycles 2..k+1 (k = the shorter of the two
    windows), ``speedup_median`` their medians (less sensitive to other load on the
    machine), ``speedup_steady`` the means over the steady window when both have one.
    """
    rows = []
    for vec in results:
        if vec["impl"] != VECTORISED or "error" in vec:
            continue
        for ref in results:
            same = ref["n"] == vec["n"] and ref["topology"] == vec["topology"]
            if ref["impl"] != REFERENCE or not same or "error" in ref:
                continue
            k = min(ref["steps"], vec["steps"])
            vec_first = _window(vec["step_times_s"], 1, k)
            ref_first = _window(ref["step_times_s"], 1, k)
            row = {
                "topology": vec["topology"],
                "n": vec["n"],
                "cycles": f"2-{k + 1}",
                "vectorised_step_s": sum(vec_first) / k,
                "reference_step_s": sum(ref_first) / k,
                "speedup": sum(ref_first) / sum(vec_first),
                "speedup_median": _median(ref_first) / _median(vec_first),
                "build_speedup": ref["build_s"] / vec["build_s"],
                "steady_cycles": None,
                "speedup_steady": None,
            }
            if vec["steady_from"] and vec["steady_from"] == ref["steady_from"]:
                start = vec["steady_from"]
                vec_steady = _window(vec["step_times_s"], start, k)
                ref_steady = _window(ref["step_times_s"], start, k)
                row["steady_cycles"] = f"{start + 1}-{start + k}"
                row["speedup_steady"] = sum(ref_steady) / sum(vec_steady)
            rows.append(row)
    return rows


def check_targets(
    results: list[dict[str, Any]], ratios: list[dict[str, Any]], topologies: list[str]
) -> list[dict[str, Any]]:
    """PASS, FAIL or 'not measured' for each target and topology (the worse window counts)."""
    checks = []

    def add(name: str, topology: str, value: float | None, limit: float, higher: bool) -> None:
        if value is None:
            verdict = "not measured"
        else:
            verdict = "PASS" if (value >= limit if higher else value < limit) else "FAIL"
        checks.append({"target": name, "topology": topology, "value": value, "verdict": verdict})

    for topology in topologies:
        big = [
            r
            for r in results
            if r["impl"] == VECTORISED and r["n"] == TARGET_N and r["topology"] == topology
        ]
        r = big[0] if big and "error" not in big[0] else {}
        worst_step = max(r["step_s"], r["step_steady_s"] or 0.0) if r else None
        add("1,000,000 systems build < 10 s", topology, r.get("build_s"), TARGET_BUILD_S, False)
        add("1,000,000 systems step < 0.1 s", topology, worst_step, TARGET_STEP_S, False)
        add(
            "1,000,000 systems peak RSS < 2 GB",
            topology,
            r.get("peak_rss_mb"),
            TARGET_RSS_MB,
            False,
        )
        for size, target in TARGET_RATIOS.items():
            ratio = [x for x in ratios if x["n"] == size and x["topology"] == topology]
            windows = [ratio[0]["speedup"], ratio[0]["speedup_steady"]] if ratio else []
            measured = [w for w in windows if w is not None]
            add(
                f"{size:,} systems: >= {target:.0f}x reference agent-steps/s",
                topology,
                min(measured) if measured else None,
                target,
                True,
            )
    return checks


COLUMNS = (
    "topology",
    "systems",
    "model",
    "build s",
    "network s",
    "step s",
    "median step s",
    "steady step s",
    "agent-steps/s",
    "peak RSS MB",
    "speed-up",
    "steady speed-up",
    "build speed-up",
)


def table_rows(results: list[dict[str, Any]], ratios: list[dict[str, Any]]) -> list[list[str]]:
    """One row of text per measurement, in COLUMNS order; speed-ups on the vectorised row."""
    rows = []
    for r in sorted(results, key=lambda r: (r["topology"], r["n"], r["impl"] != VECTORISED)):
        head = [r["topology"], f"{r['n']:,}", r["impl"]]
        if "error" in r:
            rows.append(head + [f"failed: {r['error']}"] + [""] * (len(COLUMNS) - 4))
            continue
        match = [x for x in ratios if x["n"] == r["n"] and x["topology"] == r["topology"]]
        speedups = ["", "", ""]
        if match and r["impl"] == VECTORISED:
            m = match[0]
            steady = "-" if m["speedup_steady"] is None else f"{m['speedup_steady']:.1f}x"
            speedups = [
                f"{m['speedup']:.1f}x ({m['speedup_median']:.1f}x)",
                steady,
                f"{m['build_speedup']:.1f}x",
            ]
        steady_step = "-" if r["step_steady_s"] is None else f"{r['step_steady_s']:.4f}"
        rows.append(
            head
            + [
                f"{r['build_s']:.2f}",
                f"{r['network_s']:.2f}",
                f"{r['step_s']:.4f}",
                f"{r['step_median_s']:.4f}",
                steady_step,
                f"{r['agent_steps_per_s']:.3g}",
                f"{r['peak_rss_mb']:.0f}",
                *speedups,
            ]
        )
    return rows


def rich_table(rows: list[list[str]]) -> Table:
    table = Table(title="Build, step and memory (each row measured in a fresh process)")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column in ("topology", "model") else "right")
    for row in rows:
        table.add_row(*row)
    return table


def markdown_table(header: tuple[str, ...] | list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def notes(results: list[dict[str, Any]], steps: int, steady_from: int) -> list[str]:
    """Plain-words explanations printed under the table."""
    steady = (
        f"steady = cycles {max(steady_from, 1 + steps) + 1}-{max(steady_from, 1 + steps) + steps}"
        f" (faults have spread to their steady level)"
        if steady_from
        else "no steady window"
    )
    lines = [
        f"step s, median step s: cycles 2-{steps + 1} (cycle 1 pays one-off costs); {steady}.",
        "speed-up = reference / vectorised mean step time over the same cycles (in brackets: "
        "medians, less sensitive to other load on the machine); agent-steps/s = systems / step s.",
    ]
    baseline = [r["baseline_rss_mb"] for r in results if "baseline_rss_mb" in r]
    if baseline:
        lines.append(
            f"Peak RSS includes the interpreter and libraries (about {min(baseline):.0f} MB)."
        )
    for r in results:
        if r["impl"] == REFERENCE and r["n"] > LARGE and "error" not in r:
            lines.append(
                f"The reference at {r['n']:,} systems ({r['topology']}) was timed over "
                f"{r['steps']} cycles only (cycles 2-{r['steps'] + 1}, no steady window); its "
                "speed-up compares the same cycles of both models."
            )
    return lines


def phase_table(results: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Per-phase milliseconds of the vectorised engine, one column per measurement."""
    measured = [r for r in results if r.get("phase_ms")]
    header = ["engine phase (ms per cycle)"] + [f"{r['topology']} {r['n']:,}" for r in measured]
    rows = []
    for name in ENGINE_PHASES:
        rows.append([name] + [f"{r['phase_ms'].get(name, float('nan')):.3f}" for r in measured])
    rows.append(
        ["whole cycle"] + [f"{1000 * (r['step_steady_s'] or r['step_s']):.3f}" for r in measured]
    )
    return header, rows


@app.command()
def main(
    sizes: Annotated[
        str | None,
        typer.Option(help="Comma-separated network sizes (systems). Default 10000,1000000."),
    ] = None,
    topologies: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated topologies, each with mean degree 8. "
            "Default erdos-renyi,agent-platform."
        ),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option(help="Cycles per timed window (after cycle 1). Default 20."),
    ] = None,
    steady_from: Annotated[
        int | None,
        typer.Option(
            help="Also time a window of --steps cycles after this many, once faults have "
            "spread to their steady level (0 = skip; the reference only up to "
            f"{LARGE:,} systems). Default 50.",
        ),
    ] = None,
    reference_steps: Annotated[
        int,
        typer.Option(
            help=f"Cycles timed for the reference model above {LARGE:,} systems, where each "
            "of its cycles takes seconds.",
        ),
    ] = 2,
    reference_max: Annotated[
        int, typer.Option(help="Largest size at which the reference model is measured.")
    ] = 1_000_000,
    phases: Annotated[
        bool,
        typer.Option(help="Also time each phase of the vectorised engine's cycle (profile)."),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of every model built.")] = 1,
    set_values: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Change a model parameter for both models, name=value (repeatable), e.g. "
            "--set profile_mix=honest --set fault_rate=0 to time a network where nothing "
            "happens. Size, topology and cycles come from the options above.",
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds allowed for one measurement.")] = 3600.0,
    quick: Annotated[
        bool,
        typer.Option(
            help="A short check: 10,000 systems, Erdos-Renyi only, 5 cycles per window, steady "
            "window from cycle 10 (options given explicitly still apply)."
        ),
    ] = False,
    markdown: Annotated[
        bool, typer.Option(help="Print the tables as Markdown (for the README).")
    ] = False,
    json_path: Annotated[
        Path | None,
        typer.Option("--json", help="Also save every figure and the machine to this JSON file."),
    ] = None,
    worker: Annotated[str | None, typer.Option(hidden=True)] = None,
) -> None:
    """Measure the compiled model against an object-per-agent Mesa model and check the
    project's targets: >= 50x the reference at 1,000 systems, >= 100x at 10,000 and >= 200x
    at 1,000,000, where it must also build in < 10 s, step in < 0.1 s and stay under 2 GB."""
    if worker is not None:
        print(json.dumps(measure(json.loads(worker))))
        return
    for name, value, low in (
        ("--steps", steps, 1),
        ("--steady-from", steady_from, 0),
        ("--reference-steps", reference_steps, 1),
        ("--reference-max", reference_max, 2),
        ("--timeout", timeout, 1),
    ):
        if value is not None and value < low:
            fail(f"{name}: {value:g} is too small; use a number >= {low}")
    overrides = parse_overrides(set_values or [])
    size_list = parse_sizes(sizes or ("10000" if quick else "10000,1000000"))
    topo_list = parse_topologies(
        topologies or ("erdos-renyi" if quick else "erdos-renyi,agent-platform")
    )
    steps = steps or (5 if quick else 20)
    steady_from = steady_from if steady_from is not None else (10 if quick else 50)
    if json_path is not None and not json_path.parent.is_dir():
        fail(f"--json: folder {json_path.parent} does not exist")

    specs = []
    for topology in topo_list:
        for n in size_list:
            base = {"n": n, "topology": topology, "seed": seed, "overrides": overrides}
            vec = {"impl": VECTORISED, "steps": steps, "steady_from": steady_from}
            specs.append({**base, **vec, "phases": phases})
            if n <= reference_max:
                small = n <= LARGE
                ref_steps = steps if small else reference_steps
                ref = {"impl": REFERENCE, "steps": ref_steps, "steady_from": steady_from * small}
                specs.append({**base, **ref})
    machine = machine_info()
    load = ", ".join(f"{x:.2f}" for x in machine["load_average_at_start"])
    console.print(
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB RAM, "
        f"load average {load}; Python {machine['python']}, NumPy {machine['numpy']}, "
        f"Mesa {machine['mesa']}",
        markup=False,
        highlight=False,
    )
    results = []
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("measuring", total=len(specs))
        for spec in specs:
            label = f"{spec['impl']} {spec['topology']} {spec['n']:,} systems"
            progress.update(task, description=label)
            result = run_worker(spec, timeout)
            if "error" in result:
                errors.print(f"{label}: {result['error']}", style="red", markup=False)
            results.append(result)
            progress.advance(task)
    machine["load_average_at_end"] = os.getloadavg()

    ratios = ratio_rows(results)
    checks = check_targets(results, ratios, topo_list)
    if overrides:
        for check in checks:
            if check["verdict"] != "not measured":
                check["verdict"] = "not judged"
        console.print(
            "Parameters changed with --set: the targets hold for the default parameters, so "
            "these figures are not judged against them.",
            markup=False,
            highlight=False,
        )
    rows = table_rows(results, ratios)
    if markdown:
        console.print(markdown_table(COLUMNS, rows), markup=False, highlight=False, soft_wrap=True)
    else:
        console.print(rich_table(rows))
    for line in notes(results, steps, steady_from):
        console.print(line, markup=False, highlight=False)
    if phases:
        header, phase_rows = phase_table(results)
        console.print()
        console.print(markdown_table(header, phase_rows), markup=False, highlight=False)
    console.print()
    for check in checks:
        colour = {"PASS": "green", "FAIL": "red"}.get(check["verdict"], "yellow")
        shown = "" if check["value"] is None else f" (measured {check['value']:.3g})"
        console.print(
            f"{check['verdict']:>12}  {check['target']} ({check['topology']}){shown}",
            style=colour,
            markup=False,
            highlight=False,
        )
    load_end = ", ".join(f"{x:.2f}" for x in machine["load_average_at_end"])
    console.print(f"Load average at the end: {load_end}", markup=False, highlight=False)
    if json_path is not None:
        payload = {
            "machine": machine,
            "settings": {
                "sizes": size_list,
                "topologies": topo_list,
                "mean_degree": MEAN_DEGREE,
                "steps": steps,
                "steady_from": steady_from,
                "reference_steps": reference_steps,
                "seed": seed,
                "overrides": overrides,
            },
            "results": results,
            "ratios": ratios,
            "targets": checks,
        }
        write_atomic(json_path, json.dumps(payload, indent=2))
        console.print(f"Saved {json_path}", markup=False, highlight=False)


if __name__ == "__main__":
    app()
