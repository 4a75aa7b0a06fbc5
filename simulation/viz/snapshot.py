"""Screenshot the app after some steps and time each step's redraw, in headless Chromium.

Makes the picture in the documentation and measures what a user waits for: from a click
on Step until both figures are redrawn. Needs the development dependency Playwright and a
Chromium (``/usr/bin/chromium`` by default)::

    uv run python -m simulation.viz.snapshot --n-systems 1000 --steps 20 --out docs/app.png

Only this machine is contacted: the app runs on a free local port and the page's
requests to anywhere else are refused.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from simulation.config import SimulationConfig
from simulation.viz.components import NETWORK_ID, PLOTS_ID
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
_POINTS = f"() => document.getElementById('{PLOTS_ID}').data[0].x.length"
_DRAWN = f"""(args) => {{
    const [cycle, since] = args;
    const net = document.getElementById('{NETWORK_ID}');
    const plots = document.getElementById('{PLOTS_ID}');
    return plots.data[0].x.length >= cycle
        && net.layout.title.text.startsWith('Cycle ' + cycle + ':')
        && +net.dataset.drawnAt > since && +plots.dataset.drawnAt > since;
}}"""


def _local(url: str) -> bool:
    parsed = urllib.parse.urlparse(url)
    return parsed.scheme in ("data", "blob") or parsed.hostname in ("127.0.0.1", "localhost")


def snapshot(
    config: SimulationConfig,
    seed: int,
    steps: int,
    out: Path | None,
    chromium: str = "/usr/bin/chromium",
    width: int = 1600,
    height: int = 1100,
) -> list[float]:
    """Run ``steps`` Steps in the page; return each step's click-to-redrawn time (ms)."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = start_server(
        config, seed, port=port, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    timings: list[float] = []
    try:
        wait_until_ready(url, server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": width, "height": height})
            page.route("**/*", lambda r: r.continue_() if _local(r.request.url) else r.abort())
            page.goto(url)
            page.wait_for_function(
                f"() => !!(document.getElementById('{PLOTS_ID}') || {{}}).data", timeout=120_000
            )
            page.wait_for_timeout(500)
            step = page.get_by_role("button", name="Step", exact=True)
            for cycle in range(1, steps + 1):
                since = page.evaluate("() => performance.now()")
                step.click()
                page.wait_for_function(_DRAWN, arg=[cycle, since], timeout=60_000, polling=5)
                drawn = page.evaluate(
                    f"""() => Math.max(+document.getElementById('{NETWORK_ID}').dataset.drawnAt,
                                       +document.getElementById('{PLOTS_ID}').dataset.drawnAt)"""
                )
                timings.append(drawn - since)
            page.wait_for_timeout(800)
            if out is not None:
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out))
            browser.close()
    finally:
        stop_server(server)
    return timings


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
    timings = snapshot(config, args.seed, args.steps, args.out, args.chromium)
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
