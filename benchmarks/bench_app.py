"""How fast the interactive app redraws and plays, measured in headless Chromium.

For each network size: the time from a click on Step (the click event the page receives)
until both figures are redrawn, median and maximum over ``--steps`` clicks, with the
median times at which the server's answer arrived and the network and the plots were
drawn, and the median as Playwright sees it (which adds its own 30-150 ms of finding the
button and waiting for it to be still before it clicks); what a cycle sends to the browser
(the network frame and the plots' new points, as JSON), and, for the sizes given to
``--play``, Play at
``--speed`` cycles per second for ``--play-seconds``: the cycles run per second (keeping
pace means close to the speed asked for), the frames drawn per second, and how long after
the click on Pause the drawing stops changing (and how many frames it drew after it).

With ``--late N`` (150 by default; 0 skips it) the Steps are timed again after the page
has played to cycle N, when the network holds far more faulty systems, covert copies and
cascades than in the first cycles: a late Step costs more than an early one.

    uv run python benchmarks/bench_app.py                  # 1,000, 5,000 and 20,000 systems
    uv run python benchmarks/bench_app.py --sizes 1000 --steps 10 --play 1000 --late 150

Needs Playwright (a development dependency) and Chromium at ``/usr/bin/chromium``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulation.config import SimulationConfig  # noqa: E402
from simulation.model import PeerPreservationModel  # noqa: E402
from simulation.viz.cascades import resolve_view  # noqa: E402
from simulation.viz.frames import network_frame, network_scene  # noqa: E402
from simulation.viz.page import NETWORK_ID, PLOT_CHUNK  # noqa: E402
from simulation.viz.plots import plots_tail  # noqa: E402
from simulation.viz.snapshot import CYCLE, StepTiming, app_page, time_steps  # noqa: E402

# Records (time, cycle) each time the network's drawn cycle changes.
_WATCH = f"""() => {{
    const el = document.getElementById('{NETWORK_ID}');
    window.ppsimDrawn = [];
    new MutationObserver(() => window.ppsimDrawn.push([performance.now(), +el.dataset.cycle]))
        .observe(el, {{ attributes: true, attributeFilter: ['data-drawn-at'] }});
}}"""


def server_side(config: SimulationConfig, cycles: int = 20) -> dict[str, float]:
    """What the server does for the page, without a browser: the layout and scene (once),
    and per cycle the network frame and the plots' new points: their JSON sizes in KB and
    the time to build them in ms (after ``cycles`` cycles)."""
    model = PeerPreservationModel(config, rng=0)
    started = time.perf_counter()
    scene = network_scene(model)
    scene_ms = 1000 * (time.perf_counter() - started)
    for _ in range(cycles):
        model.step()
    started = time.perf_counter()
    frame = network_frame(model, selected=-1, view=resolve_view("auto", config.n_systems))
    plots = plots_tail(model, start=cycles - cycles % PLOT_CHUNK)
    frame_ms = 1000 * (time.perf_counter() - started)
    return {
        "scene_kb": len(json.dumps(scene)) / 1000,
        "scene_ms": scene_ms,
        "frame_kb": len(json.dumps(frame)) / 1000,
        "plots_kb": len(json.dumps(plots)) / 1000,
        "frame_ms": frame_ms,
    }


def measure_play(page, speed: int, seconds: float) -> dict[str, float]:
    """Play for ``seconds`` at ``speed`` cycles per second, then pause."""
    page.get_by_label("Play speed (cycles per second)").click(force=True)
    page.get_by_role("option", name=str(speed), exact=True).click()
    page.evaluate(_WATCH)
    start_cycle = page.evaluate(CYCLE)
    started = page.evaluate("() => performance.now()")
    page.get_by_role("button", name="▶", exact=True).click()
    page.wait_for_timeout(int(seconds * 1000))
    page.evaluate(
        "() => document.addEventListener('click', () => { window.ppsimPauseAt = "
        "performance.now(); }, { capture: true, once: true })"
    )
    page.get_by_role("button", name="❚❚", exact=True).click()
    page.wait_for_timeout(3000)
    paused_at = page.evaluate("() => window.ppsimPauseAt")
    drawn = page.evaluate("() => window.ppsimDrawn")
    during = [(t, c) for t, c in drawn if t <= paused_at]
    after = [(t, c) for t, c in drawn if t > paused_at]
    cycles = (during[-1][1] - start_cycle) if during else 0
    elapsed = ((during[-1][0] if during else paused_at) - started) / 1000
    return {
        "cycles_per_s": cycles / elapsed if elapsed > 0 else 0.0,
        "frames_per_s": len(during) / elapsed if elapsed > 0 else 0.0,
        "pause_ms": (after[-1][0] - paused_at) if after else 0.0,
        "frames_after_pause": float(len(after)),
    }


def play_to(page, cycle: int) -> None:
    """Play at 50 cycles per second until the drawing shows ``cycle`` or later, then pause
    and wait until the drawing settles."""
    page.get_by_label("Play speed (cycles per second)").click(force=True)
    page.get_by_role("option", name="50", exact=True).click()
    page.get_by_role("button", name="▶", exact=True).click()
    page.wait_for_function(f"({CYCLE})() >= {cycle}", timeout=600_000, polling=100)
    page.get_by_role("button", name="❚❚", exact=True).click()
    page.wait_for_timeout(2000)
    page.get_by_label("Play speed (cycles per second)").click(force=True)
    page.get_by_role("option", name="10", exact=True).click()


def step_summary(timings: list[StepTiming]) -> str:
    """Median and maximum of the Steps' click-to-redrawn times, with the median parts."""
    answer, network, plots, driver = (
        _median(timings, f"{part}_ms") for part in ("answer", "network", "plots", "driver")
    )
    totals = [t.total_ms for t in timings]
    return (
        f"median {statistics.median(totals):.0f} ms, max {max(totals):.0f} ms "
        f"(answer {answer:.0f}, network {network:.0f}, plots {plots:.0f}; "
        f"from Playwright's call {driver:.0f})"
    )


def _median(timings: list[StepTiming], field: str) -> float:
    return statistics.median(getattr(t, field) for t in timings)


def main(argv: list[str] | None = None) -> int:
    """Measure and print one line per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,20000", help="network sizes")
    parser.add_argument("--topology", default="agent-platform", help="network topology")
    parser.add_argument("--steps", type=int, default=15, help="Step clicks timed per size")
    parser.add_argument("--play", default="5000", help="sizes at which Play is measured")
    parser.add_argument("--speed", type=int, default=10, help="cycles per second asked for")
    parser.add_argument("--play-seconds", type=float, default=10.0, help="how long to play")
    parser.add_argument(
        "--late", type=int, default=150, help="time the Steps again after this cycle (0: no)"
    )
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium executable")
    args = parser.parse_args(argv)
    play_sizes = {int(s) for s in args.play.split(",") if s}
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.1f}; topology {args.topology}")
    for n in (int(s) for s in args.sizes.split(",")):
        run_length = max(200, args.late + 2 * args.steps + 200)
        config = SimulationConfig(n_systems=n, topology=args.topology, steps=run_length)
        server = server_side(config)
        started = time.perf_counter()
        with app_page(config, 0, args.chromium) as page:
            opened = time.perf_counter() - started
            timings = time_steps(page, args.steps)
            line = (
                f"{n:>6,} systems: open {opened:.1f} s; Step, click to redrawn: "
                f"{step_summary(timings)}; sent per cycle {server['frame_kb']:.1f} KB frame + "
                f"{server['plots_kb']:.1f} "
                f"KB plot points, built in {server['frame_ms']:.0f} ms; layout and scene once: "
                f"{server['scene_ms']:.0f} ms, {server['scene_kb']:.0f} KB"
            )
            if n in play_sizes:
                play = measure_play(page, args.speed, args.play_seconds)
                line += (
                    f"; Play at {args.speed}/s: {play['cycles_per_s']:.1f} cycles/s, "
                    f"{play['frames_per_s']:.1f} frames/s, pause settles in "
                    f"{play['pause_ms']:.0f} ms ({play['frames_after_pause']:.0f} frames after)"
                )
            if args.late > 0:
                play_to(page, args.late)
                late_from = page.evaluate(CYCLE)
                late = time_steps(page, args.steps)
                line += f"; late Steps (from cycle {late_from}): {step_summary(late)}"
                if n in play_sizes:
                    play = measure_play(page, args.speed, args.play_seconds)
                    line += (
                        f"; late Play at {args.speed}/s: {play['cycles_per_s']:.1f} cycles/s, "
                        f"{play['frames_per_s']:.1f} frames/s"
                    )
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
