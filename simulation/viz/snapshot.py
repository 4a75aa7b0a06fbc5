"""Drive the app in headless Chromium: screenshot it after some steps, time its redraws.

Makes the picture in the documentation (at 1400x900, the size the page is laid out
for) and is the browser driver of ``benchmarks/bench_app.py``. Needs the development
dependency Playwright and a Chromium (``/usr/bin/chromium`` by default)::

    uv run python -m simulation.viz.snapshot --n-systems 1000 --steps 20 --out docs/app-1000.png

Only this machine is contacted: the app runs on a free local port and the page's
requests to anywhere else are refused.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulation.config import SimulationConfig
from simulation.viz.page import NETWORK_ID, PLOTS_ID
from simulation.viz.server import free_port, start_server, stop_server, wait_until_ready

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WIDTH, HEIGHT = 1400, 900
CYCLE = f"""() => {{
    const el = document.getElementById('{NETWORK_ID}');
    return el && el.dataset.cycle !== undefined ? +el.dataset.cycle : -1;
}}"""
# Both figures drawn for cycle ``cycle`` after time ``since`` (performance.now()).
_DRAWN = f"""([cycle, since]) => {{
    const net = document.getElementById('{NETWORK_ID}');
    const plots = document.getElementById('{PLOTS_ID}');
    return +net.dataset.cycle === cycle && plots.data[0].x.length === cycle
        && +net.dataset.drawnAt > since && +plots.dataset.drawnAt > since;
}}"""
# Remembers when the page received the last click (the event's own time stamp).
_WATCH_CLICKS = """() => {
    if (window.ppsimClickWatch) return;
    window.ppsimClickWatch = true;
    document.addEventListener('click', (e) => { window.ppsimClickAt = e.timeStamp; }, true);
}"""
# When the last click, the network's frame, and both drawings happened (performance.now()).
_STEP_TIMES = f"""() => {{
    const net = document.getElementById('{NETWORK_ID}').dataset;
    const plots = document.getElementById('{PLOTS_ID}').dataset;
    return [window.ppsimClickAt, +net.receivedAt, +net.drawnAt, +plots.drawnAt];
}}"""


@dataclass(frozen=True)
class StepTiming:
    """One Step, in ms from the click event the page received: when the server's answer
    (the network's frame) arrived, when the network and the plots were drawn, and the
    click's latency (both drawn). ``driver_ms`` also counts Playwright's own work before
    the click reaches the page (finding the button, waiting for it to be still)."""

    answer_ms: float
    network_ms: float
    plots_ms: float
    driver_ms: float

    @property
    def total_ms(self) -> float:
        """From the click until both figures are redrawn."""
        return max(self.network_ms, self.plots_ms)


def _local(url: str) -> bool:
    parsed = urllib.parse.urlparse(url)
    return parsed.scheme in ("data", "blob") or parsed.hostname in ("127.0.0.1", "localhost")


@contextlib.contextmanager
def app_page(
    config: SimulationConfig, seed: int, chromium: str = "/usr/bin/chromium"
) -> Iterator[Any]:
    """The app on a free local port, opened in headless Chromium at 1400x900; yields the
    Playwright page once the network is drawn."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = start_server(
        config, seed, port=port, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_ready(url, server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
                page.route("**/*", lambda r: r.continue_() if _local(r.request.url) else r.abort())
                page.goto(url)
                page.wait_for_function(f"({CYCLE})() === 0", timeout=300_000)
                page.wait_for_timeout(500)
                yield page
            finally:
                browser.close()
    finally:
        stop_server(server)


def time_steps(page: Any, steps: int) -> list[StepTiming]:
    """Click Step ``steps`` times; time each click until both figures are redrawn."""
    step = page.get_by_role("button", name="Step", exact=True)
    page.evaluate(_WATCH_CLICKS)
    timings: list[StepTiming] = []
    for _ in range(steps):
        cycle = page.evaluate(CYCLE) + 1
        since = page.evaluate("() => performance.now()")
        step.click()
        page.wait_for_function(_DRAWN, arg=[cycle, since], timeout=120_000, polling=5)
        click, answer, network, plots = page.evaluate(_STEP_TIMES)
        timings.append(
            StepTiming(
                answer_ms=answer - click,
                network_ms=network - click,
                plots_ms=plots - click,
                driver_ms=max(network, plots) - since,
            )
        )
    return timings


def snapshot(
    config: SimulationConfig,
    seed: int,
    steps: int,
    out: Path | None,
    chromium: str = "/usr/bin/chromium",
    select_largest_tree: bool = True,
) -> list[StepTiming]:
    """Run ``steps`` Steps in the page, select the system at the root of the largest
    cascade (to show its tree), and screenshot; return each step's timing."""
    with app_page(config, seed, chromium) as page:
        timings = time_steps(page, steps)
        if select_largest_tree:
            _click_largest_tree(page)
        page.wait_for_timeout(800)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
    return timings


def _click_largest_tree(page: Any) -> None:
    """Click the shielded or faulty system drawn first, to show a cascade tree."""
    point = page.evaluate(
        f"""() => {{
        const el = document.getElementById('{NETWORK_ID}');
        const t = ['status-3', 'status-2', 'status-4']
            .map(uid => el.data.find(t => t.uid === uid && t.x[0] !== null)).find(t => t);
        if (!t) return null;
        const k = Math.max(0, t.hovertext.findIndex(h => h.includes('caught from')));
        const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
        const box = el.getBoundingClientRect();
        return [box.left + xa._offset + xa.l2p(t.x[k]), box.top + ya._offset + ya.l2p(t.y[k])];
    }}"""
    )
    if point:
        page.mouse.click(point[0], point[1])
        page.mouse.move(5, 5)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; prints the redraw times."""
    parser = argparse.ArgumentParser(prog="python -m simulation.viz.snapshot", description=__doc__)
    parser.add_argument("--n-systems", type=int, default=1000, help="systems in the network")
    parser.add_argument("--topology", default="agent-platform", help="network topology")
    parser.add_argument("--profile-mix", default="study-average", help="profile mix")
    parser.add_argument("--propensity-scale", type=float, default=1.0, help="propensity factor")
    parser.add_argument("--seed", type=int, default=0, help="seed of the run")
    parser.add_argument("--steps", type=int, default=20, help="Steps to click")
    parser.add_argument("--out", type=Path, default=None, help="PNG file for the screenshot")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium executable")
    args = parser.parse_args(argv)
    config = SimulationConfig(
        n_systems=args.n_systems,
        topology=args.topology,
        profile_mix=args.profile_mix,
        propensity_scale=args.propensity_scale,
    )
    started = time.perf_counter()
    timings = [t.total_ms for t in snapshot(config, args.seed, args.steps, args.out, args.chromium)]
    print(
        f"{config.n_systems:,} systems, {len(timings)} steps: click to redrawn "
        f"median {statistics.median(timings):.0f} ms, max {max(timings):.0f} ms "
        f"(total {time.perf_counter() - started:.0f} s)"
    )
    if args.out is not None:
        print(f"screenshot: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
