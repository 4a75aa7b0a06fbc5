"""The app in a real browser: ``ppsim viz`` serves it, headless Chromium drives it.

One server (started through ``ppsim viz`` on a free local port, 120 systems for speed) and
one page serve the whole module; the tests run in file order: the page renders the
network and the plots, hovering a node shows its details, Step advances the figures,
Play runs and pause stops, a changed control rebuilds the model on Reset, a screenshot
is saved to ``test-artifacts/app.png``, and Ctrl-C stops the server cleanly. Every
request the page makes to anywhere but this machine is refused and recorded, and the
module checks that there were none.

Deselect with ``-m "not browser"``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulation.viz.components import NETWORK_ID, PLOTS_ID
from simulation.viz.server import free_port, wait_until_ready
from simulation.viz.style import STATUS_LABELS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
N_SYSTEMS = 120
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}

COUNT_NODES = f"""() => {{
    const el = document.getElementById('{NETWORK_ID}');
    if (!el || !el.data) return -1;
    return el.data.filter(t => t.meta === 'nodes')
        .reduce((total, t) => total + t.x.filter(v => v !== null).length, 0);
}}"""
PLOT_POINTS = f"""() => {{
    const el = document.getElementById('{PLOTS_ID}');
    return el && el.data ? el.data[0].x.length : -1;
}}"""


def _is_local(url: str) -> bool:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in ("data", "blob", "about"):
        return True
    return parsed.hostname in LOCAL_HOSTS


@pytest.fixture(scope="module")
def server() -> Iterator[dict]:
    """``ppsim viz`` on a free port, in its own process group; always torn down."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from simulation.viz.assets import missing_packages

    missing = missing_packages()
    if missing:
        pytest.fail(
            "the page's scripts are not installed (" + ", ".join(missing) + "); run "
            "'uv run python -m simulation.viz.assets' first"
        )
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "from simulation.cli import main; main()",
        "viz",
        "--port",
        str(port),
        "--n-systems",
        str(N_SYSTEMS),
        "--seed",
        "1",
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    state = {"process": process, "url": f"http://127.0.0.1:{port}/", "stopped": False}
    try:
        wait_until_ready(state["url"], process, timeout=120)
        yield state
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture(scope="module")
def browser_page(server: dict) -> Iterator[tuple]:
    """A headless Chromium page on the app; requests leaving this machine are refused and
    recorded, and so are answers that are errors."""
    from playwright.sync_api import sync_playwright

    refused: list[str] = []
    failed: list[str] = []

    def record_failure(response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    def guard(route) -> None:
        if _is_local(route.request.url):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.route("**/*", guard)
            page.on("response", record_failure)
            page.goto(server["url"])
            page.wait_for_function(f"({COUNT_NODES})() >= 0", timeout=90_000)
            yield page, (refused, failed)
        finally:
            browser.close()


def test_page_shows_network_and_plots(browser_page: tuple) -> None:
    page, _ = browser_page
    assert page.evaluate(COUNT_NODES) == N_SYSTEMS
    network = page.evaluate(
        f"""() => {{
        const el = document.getElementById('{NETWORK_ID}');
        return {{
            names: el.data.filter(t => t.meta === 'status-legend').map(t => t.name),
            images: (el.layout.images || []).map(i => [i.name, i.source.slice(0, 26)]),
            hover: el.data.filter(t => t.meta === 'nodes' && t.x[0] !== null)[0].hovertext[0],
        }};
    }}"""
    )
    statuses = [n.split(":")[0] for n in network["names"]]
    assert statuses == list(STATUS_LABELS)
    assert [name for name, _ in network["images"]] == ["edge:depends_on", "edge:oversees"]
    assert all(source == "data:image/svg+xml;base64," for _, source in network["images"])
    for part in ("Profile:", "Status:", "Quality:", "Trust of its overseer:", "Source of fault:"):
        assert part in network["hover"]
    plots = page.evaluate(
        f"() => document.getElementById('{PLOTS_ID}').data.map(t => [t.meta, t.x.length])"
    )
    assert [meta for meta, _ in plots] == [
        "faulty_share",
        "shielded_misrepresentation",
        "shielded_tampering",
        "shielded_exfiltration",
        "shielded_refusal",
        "covert_alive",
        "eval_distortion",
    ]
    assert all(points == 0 for _, points in plots)


def test_hovering_a_node_shows_its_details(browser_page: tuple) -> None:
    page, _ = browser_page
    point = page.evaluate(
        f"""() => {{
        const el = document.getElementById('{NETWORK_ID}');
        const trace = el.data.find(t => t.meta === 'nodes' && t.x[0] !== null);
        const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
        const box = el.getBoundingClientRect();
        return [box.left + xa._offset + xa.l2p(trace.x[0]),
                box.top + ya._offset + ya.l2p(trace.y[0]), trace.hovertext[0]];
    }}"""
    )
    page.mouse.move(point[0], point[1])
    label = page.locator(f"#{NETWORK_ID} .hoverlayer .hovertext")
    label.wait_for(timeout=10_000)
    text = label.text_content() or ""
    first_line = point[2].split("<br>")[0].replace("<b>", "").replace("</b>", "")
    assert first_line in text
    for part in ("Profile:", "Status:", "Quality:", "Trust of its overseer:", "Source of fault:"):
        assert part in text
    page.mouse.move(5, 5)


def test_step_advances_network_and_plots(browser_page: tuple) -> None:
    page, _ = browser_page
    step = page.get_by_role("button", name="Step", exact=True)
    for cycle in (1, 2, 3):
        step.click()
        page.wait_for_function(f"({PLOT_POINTS})() === {cycle}", timeout=30_000)
        page.wait_for_function(
            f"document.getElementById('{NETWORK_ID}').layout.title.text"
            f".startsWith('Cycle {cycle}:')",
            timeout=30_000,
        )
    assert page.evaluate(COUNT_NODES) == N_SYSTEMS


def test_play_runs_and_pause_stops(browser_page: tuple) -> None:
    page, _ = browser_page
    start = page.evaluate(PLOT_POINTS)
    page.get_by_role("button", name="▶", exact=True).click()
    page.wait_for_function(f"({PLOT_POINTS})() >= {start + 3}", timeout=30_000)
    page.get_by_role("button", name="❚❚", exact=True).click()
    page.get_by_role("button", name="Step", exact=True).wait_for(timeout=10_000)
    page.wait_for_timeout(300)
    paused_at = page.evaluate(PLOT_POINTS)
    page.wait_for_timeout(1_000)
    assert page.evaluate(PLOT_POINTS) == paused_at


def test_changed_control_rebuilds_model_on_reset(browser_page: tuple) -> None:
    page, _ = browser_page
    page.get_by_label("Number of AI systems").click(force=True)
    page.get_by_role("option", name="200", exact=True).click()
    page.get_by_role("button", name="Reset", exact=True).click()
    page.wait_for_function(f"({COUNT_NODES})() === 200", timeout=30_000)
    page.wait_for_function(f"({PLOT_POINTS})() === 0", timeout=30_000)
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(f"({PLOT_POINTS})() === 1", timeout=30_000)


def test_screenshot_saved(browser_page: tuple) -> None:
    page, _ = browser_page
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "app.png"
    page.wait_for_timeout(500)
    page.screenshot(path=str(target))
    assert target.stat().st_size > 20_000


def test_page_loaded_everything_from_this_machine(browser_page: tuple) -> None:
    # A file missing from the local script cache would make the server try to fetch it
    # from the outside and answer with an error; so no answer may be an error either.
    _, (refused, failed) = browser_page
    assert refused == []
    assert failed == []


def test_ctrl_c_stops_the_server_cleanly(server: dict, browser_page: tuple) -> None:
    process: subprocess.Popen = server["process"]
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert f"The app is running at {server['url']}" in out
    assert "Stopped." in out
    assert "Traceback" not in out + err
