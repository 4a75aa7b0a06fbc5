"""The app in a real browser: ``ppsim viz`` serves it, headless Chromium drives it.

One server (started through ``ppsim viz`` on a free local port, 120 systems with a high
fault rate so that faults spread within a few cycles) and one page at 1400x900 serve the
whole module; the tests run in file order: the page renders the network and the plots,
hovering a system shows its details, Step advances and shows the cycle's new faults and
spread links, a click on a system highlights its cascade tree and "caught from system N"
moves to the source, the links toggle draws every link, Play runs and Pause stops at
once, the page fits 1400x900 (legends and axis titles inside the window, no badge over
them), a changed control shows the Reset cue and is applied on Reset, the end of the
run says so and offers to continue, 50 random clicks leave a working page without a
traceback, a screenshot is saved to ``test-artifacts/app.png``, and Ctrl-C stops the
server cleanly with no traceback in its log. Every request the page makes to anywhere but
this machine is refused and recorded, and the module checks that there were none.

Deselect with ``-m "not browser"``.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulation.reports.palette import FAULTY_SHARE_COLOUR, MECHANISM_COLOURS, STATUS_COLOURS
from simulation.viz.page import NETWORK_ID, PLOTS_ID
from simulation.viz.server import free_port, wait_until_ready
from simulation.viz.style import STATUS_LEGEND

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

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
N_SYSTEMS = 120
WIDTH, HEIGHT = 1400, 900
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}

COUNT_NODES = f"""() => {{
    const el = document.getElementById('{NETWORK_ID}');
    if (!el || !el.data) return -1;
    return el.data.filter(t => t.meta === 'nodes')
        .reduce((total, t) => total + t.x.filter(v => v !== null).length, 0);
}}"""
CYCLE = f"""() => {{
    const el = document.getElementById('{NETWORK_ID}');
    return el && el.dataset.cycle !== undefined ? +el.dataset.cycle : -1;
}}"""
PLOT_POINTS = f"""() => {{
    const el = document.getElementById('{PLOTS_ID}');
    return el && el.data ? el.data[0].x.length : -1;
}}"""
# The selected system's details include the text given (the panel may be re-rendering).
DETAILS_SHOW = (
    "(document.querySelector('.ppsim-details') || {{textContent: ''}}).textContent.includes('{}')"
)
LEGEND = """() => Object.fromEntries([...document.querySelectorAll('.ppsim-net-legend [data-meta]')]
    .map(e => [e.dataset.meta, e.textContent]))"""
# Screen position of the first point of the first trace with ``meta`` and ``uid`` given.
POINT = f"""([meta, uid]) => {{
    const el = document.getElementById('{NETWORK_ID}');
    const t = el.data.find(t => t.meta === meta && (!uid || t.uid === uid) && t.x[0] !== null);
    if (!t) return null;
    const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
    const box = el.getBoundingClientRect();
    return [box.left + xa._offset + xa.l2p(t.x[0]), box.top + ya._offset + ya.l2p(t.y[0]),
            t.customdata ? t.customdata[0] : null, t.hovertext ? t.hovertext[0] : null];
}}"""


def _is_local(url: str) -> bool:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in ("data", "blob", "about"):
        return True
    return parsed.hostname in LOCAL_HOSTS


def _count(name: str) -> int:
    return int(name.rsplit(": ", 1)[1].replace(",", ""))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """``ppsim viz`` on a free port, in its own process group, its output in files;
    always torn down."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from simulation.viz.assets import AssetError, install, missing_packages

    missing = missing_packages()
    if missing:
        # as 'ppsim viz' does on its first start; impossible only without npm or registry
        try:
            install(missing)
        except AssetError as exc:
            pytest.skip(f"the page's scripts could not be installed: {exc}")
    port = free_port()
    logs = tmp_path_factory.mktemp("server")
    out_path, err_path = logs / "stdout.txt", logs / "stderr.txt"
    command = [
        sys.executable,
        "-c",
        "from simulation.cli import main; main()",
        "viz",
        "--port",
        str(port),
        "--n-systems",
        str(N_SYSTEMS),
        "--fault-rate",
        "0.03",
        "--seed",
        "1",
    ]
    with open(out_path, "w") as out, open(err_path, "w") as err:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            # Ctrl-C acts as in a terminal even under a background job (SIGINT ignored)
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    state = {
        "process": process,
        "url": f"http://127.0.0.1:{port}/",
        "log": lambda: out_path.read_text() + err_path.read_text(),
    }
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


@pytest.fixture(scope="module")
def browser_page(server: dict) -> Iterator[tuple]:
    """A headless Chromium page at 1400x900 on the app; requests leaving this machine are
    refused and recorded, and so are answers that are errors."""
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
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            page.route("**/*", guard)
            page.on("response", record_failure)
            page.goto(server["url"])
            page.wait_for_function(f"({COUNT_NODES})() > 0", timeout=90_000)
            yield page, (refused, failed)
        finally:
            browser.close()


def _button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def _step(page, times: int = 1) -> None:
    """Click Step; wait until the network and the plots show the next cycle."""
    for _ in range(times):
        after = page.evaluate(CYCLE) + 1
        _button(page, "Step").click()
        page.wait_for_function(
            f"({CYCLE})() === {after} && ({PLOT_POINTS})() === {after}", timeout=30_000
        )


def _choose(page, label: str, option: str) -> None:
    page.get_by_label(label).click(force=True)
    page.get_by_role("option", name=option, exact=True).click()


def test_page_shows_network_and_plots(browser_page: tuple) -> None:
    page, _ = browser_page
    assert page.evaluate(COUNT_NODES) == N_SYSTEMS
    legend = page.evaluate(LEGEND)
    names = [legend[f"status-{i}"].split(":")[0] for i in range(len(STATUS_LEGEND))]
    assert names == list(STATUS_LEGEND)
    for link in (
        "link:all",
        "link:exposed",
        "link:cascade",
        "link:shield",
        "link:spread",
        "link:tree",
    ):
        assert link in legend
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
    assert page.evaluate(CYCLE) == 0


def test_hovering_a_system_shows_its_details(browser_page: tuple) -> None:
    page, _ = browser_page
    x, y, system, text = page.evaluate(POINT, ["nodes", "status-0"])
    page.mouse.move(x, y)
    label = page.locator(f"#{NETWORK_ID} .hoverlayer .hovertext")
    label.wait_for(timeout=10_000)
    shown = label.text_content() or ""
    assert f"System {system}" in shown
    for part in ("Profile:", "Propensity: 1.00", "Status: healthy", "Quality:", "Source of fault:"):
        assert part in shown
    # The label is drawn above the legends: the page's topmost element at its centre is
    # part of the network's figure, never a legend.
    on_top = page.evaluate(
        f"""() => {{ const r = document.querySelector('#{NETWORK_ID} .hoverlayer .hovertext')
            .getBoundingClientRect();
            const e = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            return [!!e.closest('#{NETWORK_ID}'), !!e.closest('.ppsim-net-legend')]; }}"""
    )
    assert on_top == [True, False]
    page.mouse.move(5, 5)


def test_step_shows_new_faults_and_the_links_they_travelled(browser_page: tuple) -> None:
    page, _ = browser_page
    seen_new = seen_spread = False
    for cycle in range(1, 9):
        _step(page)
        assert page.evaluate(PLOT_POINTS) == cycle
        legend = page.evaluate(LEGEND)
        spread, new = _count(legend["link:spread"]), _count(legend["new-faults"])
        assert spread <= new  # every fault caught this cycle is also new this cycle
        seen_new |= new > 0
        seen_spread |= spread > 0
        title = page.evaluate(f"document.getElementById('{NETWORK_ID}').layout.title.text")
        assert title.startswith(f"Cycle {cycle}:")
    assert seen_new and seen_spread
    assert page.evaluate(COUNT_NODES) == N_SYSTEMS
    legend = page.evaluate(LEGEND)
    assert _count(legend["link:exposed"]) > 0  # the faulty systems' dependencies


def test_plots_show_values_on_hover_and_a_legend_click_hides_a_line(
    browser_page: tuple,
) -> None:
    """The plots (SVG drawn in the page) show every line's value at the cycle under the
    pointer, and a click on a legend entry hides that line until clicked again."""
    page, _ = browser_page
    cycle = page.evaluate(PLOT_POINTS)
    assert cycle >= 2
    plots = page.locator(f"#{PLOTS_ID}")
    lines = f"() => document.querySelectorAll('#{PLOTS_ID} .ppsim-plot-area path').length"
    box = page.evaluate(
        f"""() => {{ const r = document.querySelector('#{PLOTS_ID} .ppsim-plot-area')
            .getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }}"""
    )
    page.mouse.move(box[0] + box[2] - 12, box[1] + box[3] / 3)  # the last cycle, right edge
    tip = plots.locator(".ppsim-plot-tooltip")
    tip.wait_for(state="visible", timeout=5_000)
    text = tip.text_content() or ""
    assert f"cycle {cycle}" in text and "Faulty share (%)" in text and "Inflated score" in text
    page.mouse.move(5, 5)
    tip.wait_for(state="hidden", timeout=5_000)
    before = page.evaluate(lines)
    entry = plots.locator(".ppsim-legend-entry", has_text="Inflated score")
    entry.click()
    page.wait_for_function(f"({lines})() === {before - 1}", timeout=5_000)
    assert "ppsim-legend-off" in (entry.get_attribute("class") or "")
    entry.click()
    page.wait_for_function(f"({lines})() === {before}", timeout=5_000)


def test_clicking_a_system_highlights_its_cascade_tree(browser_page: tuple) -> None:
    page, _ = browser_page
    _step(page, 6)
    point = None
    for uid in ("status-3", "status-2", "status-4"):
        # A faulty system that caught its fault from another, if there is one.
        point = page.evaluate(
            f"""() => {{
            const el = document.getElementById('{NETWORK_ID}');
            const t = el.data.find(t => t.uid === '{uid}' && t.x[0] !== null
                && t.hovertext.some(h => h.includes('caught from')));
            if (!t) return null;
            const k = t.hovertext.findIndex(h => h.includes('caught from'));
            const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
            const box = el.getBoundingClientRect();
            return [box.left + xa._offset + xa.l2p(t.x[k]), box.top + ya._offset + ya.l2p(t.y[k]),
                    t.customdata[k], t.hovertext[k]];
        }}"""
        )
        if point:
            break
    assert point, "no faulty system caught its fault from another within 14 cycles"
    x, y, system, hover = point
    source = int(hover.split("caught from system ")[1].split("<")[0])
    page.mouse.click(x, y)
    page.wait_for_function(f"({LEGEND})()['selected'].endsWith(': 1')", timeout=15_000)
    legend = page.evaluate(LEGEND)
    assert _count(legend["link:tree"]) >= 1
    page.wait_for_function(
        DETAILS_SHOW.format(f"System {system} "),
        timeout=15_000,
    )
    caught = page.locator(".ppsim-caught-from")
    box = caught.bounding_box()
    assert box is not None and box["y"] + box["height"] <= HEIGHT  # above the fold
    caught.click()
    page.wait_for_function(
        DETAILS_SHOW.format(f"System {source} "),
        timeout=15_000,
    )
    assert _count(page.evaluate(LEGEND)["link:tree"]) >= 1  # the same tree, from its source
    _button(page, "Clear").click()
    page.wait_for_function(f"({LEGEND})()['selected'].endsWith(': 0')", timeout=15_000)


def test_all_links_are_a_toggle(browser_page: tuple) -> None:
    page, _ = browser_page
    entry = page.locator(".ppsim-net-legend [data-meta='link:all']")
    assert "ppsim-legend-off" in (entry.get_attribute("class") or "")
    page.get_by_label("Show all links").check()
    page.wait_for_function(
        "!document.querySelector(\".ppsim-net-legend [data-meta='link:all']\")"
        ".classList.contains('ppsim-legend-off')",
        timeout=15_000,
    )
    drawn = page.evaluate(
        f"""() => document.getElementById('{NETWORK_ID}').ppsimLinks.all[0].length"""
    )
    assert drawn == _count(page.evaluate(LEGEND)["link:all"]) > N_SYSTEMS / 2
    # Drawn on the canvas under the nodes, not as WebGL traces; the legends are HTML.
    kinds = page.evaluate(
        f"""() => document.getElementById('{NETWORK_ID}').data
            .filter(t => (t.meta || '').startsWith('link:') || t.showlegend !== false).length"""
    )
    assert kinds == 0
    # A click on a link's entry hides that kind of link, and shows it again.
    exposed = page.locator(".ppsim-net-legend [data-meta='link:exposed']")
    exposed.click()
    assert "ppsim-legend-off" in (exposed.get_attribute("class") or "")
    exposed.click()
    assert "ppsim-legend-off" not in (exposed.get_attribute("class") or "")
    # ... and on a status's entry, the systems of that status.
    healthy = f"""() => document.getElementById('{NETWORK_ID}').data
        .find(t => t.uid === 'status-0').visible"""
    page.locator(".ppsim-net-legend [data-meta='status-0']").click()
    page.wait_for_function(f"({healthy})() === false", timeout=15_000)
    page.locator(".ppsim-net-legend [data-meta='status-0']").click()
    page.wait_for_function(f"({healthy})() === true", timeout=15_000)
    page.get_by_label("Show all links").uncheck()


def test_play_runs_and_pause_stops_at_once(browser_page: tuple) -> None:
    page, _ = browser_page
    start = page.evaluate(CYCLE)
    _button(page, "▶").click()
    page.wait_for_function(f"({CYCLE})() >= {start + 5}", timeout=30_000)
    # Record every cycle drawn, and the moment Pause is clicked.
    page.evaluate(
        f"""() => {{
        const el = document.getElementById('{NETWORK_ID}');
        window.ppsimDrawn = [];
        new MutationObserver(() => window.ppsimDrawn.push([performance.now(), +el.dataset.cycle]))
            .observe(el, {{ attributes: true, attributeFilter: ['data-cycle'] }});
        document.addEventListener('click', () => {{ window.ppsimPauseAt = performance.now(); }},
                                  {{ capture: true, once: true }});
    }}"""
    )
    _button(page, "❚❚").click()
    _button(page, "▶").wait_for(timeout=5_000)
    page.wait_for_timeout(1_500)
    # At most the frame already requested when Pause was pressed is drawn after it.
    after = page.evaluate("() => window.ppsimDrawn.filter(([t]) => t > window.ppsimPauseAt)")
    assert len(after) <= 1
    settled = page.evaluate(CYCLE)
    page.wait_for_timeout(1_000)
    assert page.evaluate(CYCLE) == settled
    page.wait_for_function(f"({PLOT_POINTS})() === {settled}", timeout=5_000)


def test_page_fits_1400_by_900(browser_page: tuple) -> None:
    page, _ = browser_page
    assert page.viewport_size == {"width": WIDTH, "height": HEIGHT}
    assert page.get_by_text("This website runs on").count() == 0
    boxes = page.evaluate(
        f"""() => {{
        const box = (el) => {{ const r = el.getBoundingClientRect();
            return [r.left, r.top, r.right, r.bottom]; }};
        const net = document.getElementById('{NETWORK_ID}');
        const plots = document.getElementById('{PLOTS_ID}');
        return {{
            legends: [...document.querySelectorAll('.ppsim-net-legend .ppsim-legend-group')]
                .map(box),
            plotLegend: [...plots.querySelectorAll('.ppsim-plot-legend')].map(box),
            xtitle: [...plots.querySelectorAll('.ppsim-plot-xtitle')].map(box),
            titles: [...plots.querySelectorAll('.ppsim-panel-title')].map(box),
            plots: box(plots),
            net: box(net),
        }};
    }}"""
    )
    inside = [*boxes["legends"], *boxes["plotLegend"], *boxes["xtitle"], boxes["net"]]
    for left, top, right, bottom in inside:
        assert left >= 0 and right <= WIDTH and top >= 0 and bottom <= HEIGHT
    assert len(boxes["legends"]) == 3 and len(boxes["plotLegend"]) == 1
    for _, _, right, _ in boxes["legends"]:  # no legend entry cut at the figure's edge
        assert right <= boxes["net"][2]
    # Panel titles are not cut: each ends inside the plots' box.
    assert len(boxes["titles"]) == 4
    for _, _, right, _ in boxes["titles"]:
        assert right <= boxes["plots"][2]
    # The x-axis title sits below the legend-free area, not under another element.
    _, x_top, _, x_bottom = boxes["xtitle"][0]
    for _, top, _, bottom in boxes["plotLegend"]:
        assert bottom <= x_top or top >= x_bottom
    _assert_plots_and_network_fit(page)
    _assert_sidebar_keeps_its_run_card_in_view(page)


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _assert_plots_and_network_fit(page) -> None:
    """Panel titles clear of tick labels, the plots' legend under the title of its panel,
    the network's drawing filling its panel above its legends."""
    found = page.evaluate(
        f"""() => {{
        const box = (el) => {{ const r = el.getBoundingClientRect();
            return [r.left, r.top, r.right, r.bottom]; }};
        const plots = document.getElementById('{PLOTS_ID}');
        const net = document.getElementById('{NETWORK_ID}');
        const xa = net._fullLayout.xaxis, ya = net._fullLayout.yaxis;
        return {{
            titles: [...plots.querySelectorAll('.ppsim-panel-title')].map(box),
            ticks: [...plots.querySelectorAll('svg text[text-anchor="end"]')].map(box),
            legend: box(plots.querySelector('.ppsim-plot-legend')),
            drawing: [xa._length, ya._length],
            panel: box(net),
            legends: box(document.querySelector('.ppsim-net-legend')),
        }};
    }}"""
    )
    for title in found["titles"]:
        assert not any(_overlap(title, tick) for tick in found["ticks"])
    # The legend of the mechanisms lies between the second panel's title and the third's.
    assert found["titles"][1][3] <= found["legend"][1] < found["titles"][2][1]
    width, height = found["drawing"]
    panel = found["panel"]
    assert width >= (panel[2] - panel[0]) - 10  # the drawing spans the panel's width
    assert height >= (found["legends"][1] - panel[1]) - 40  # and reaches down to the legends
    assert height > 380


def _assert_sidebar_keeps_its_run_card_in_view(page) -> None:
    """Scrolled to its end, the sidebar still shows Reset at its top."""
    scrolled = page.evaluate(
        """() => {
        const card = document.querySelector('.ppsim-run-card');
        let el = card.parentElement;
        while (el && el.scrollHeight <= el.clientHeight + 1) el = el.parentElement;
        if (!el) return null;
        el.scrollTop = el.scrollHeight;
        return el.scrollTop;
    }"""
    )
    assert scrolled and scrolled > 50  # the sidebar is longer than the window
    page.wait_for_timeout(300)
    reset = _button(page, "Reset").bounding_box()
    assert reset is not None and reset["y"] >= 0 and reset["y"] + reset["height"] <= HEIGHT
    top = page.evaluate(
        "() => { const r = document.querySelector('.ppsim-run-card .v-btn')"
        ".getBoundingClientRect(); return document.elementFromPoint(r.left + 5, r.top + 5)"
        ".closest('.ppsim-run-card') !== null; }"
    )
    assert top  # Reset is not under the settings scrolled past it
    # Every drop-down shows its whole value.
    cut = page.evaluate(
        """() => [...document.querySelectorAll('.v-select__selection-text')]
            .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"""
    )
    assert cut == []
    page.evaluate(
        "() => { let el = document.querySelector('.ppsim-run-card').parentElement;"
        " while (el) { el.scrollTop = 0; el = el.parentElement; } }"
    )


def test_units_and_colours_are_those_of_the_palette(browser_page: tuple) -> None:
    page, _ = browser_page
    lines = page.evaluate(
        f"""() => Object.fromEntries(document.getElementById('{PLOTS_ID}').data
            .map(t => [t.meta, t.line.color]))"""
    )
    for column, colour in MECHANISM_COLOURS.items():
        assert lines[column] == colour
    assert lines["faulty_share"] == FAULTY_SHARE_COLOUR
    assert FAULTY_SHARE_COLOUR not in STATUS_COLOURS
    titles = page.evaluate(
        f"""() => [...document.getElementById('{PLOTS_ID}').querySelectorAll('.ppsim-panel-title')]
            .map(a => a.textContent)"""
    )
    assert any("distortion" in t and "(pp)" in t for t in titles)
    # No Mesa "Information"/"Time" card, no unlabelled slider.
    assert page.get_by_text("Information", exact=True).count() == 0
    assert page.locator(".v-slider").count() == 0


def test_changed_control_shows_the_reset_cue_and_applies_on_reset(browser_page: tuple) -> None:
    page, _ = browser_page
    assert page.locator(".ppsim-reset-cue").count() == 0
    _choose(page, "Number of AI systems", "200")
    cue = page.locator(".ppsim-reset-cue")
    cue.wait_for(timeout=10_000)
    assert "Number of AI systems" in (cue.text_content() or "")
    _button(page, "Reset").click()
    page.wait_for_function(f"({COUNT_NODES})() === 200", timeout=30_000)
    page.wait_for_function(f"({PLOT_POINTS})() === 0", timeout=30_000)
    assert page.locator(".ppsim-reset-cue").count() == 0
    _step(page)
    assert page.evaluate(PLOT_POINTS) == 1


def test_end_of_run_says_so_and_offers_to_continue(browser_page: tuple) -> None:
    page, _ = browser_page
    _choose(page, "Length of the run (oversight cycles)", "20 cycles")
    _button(page, "Reset").click()
    page.wait_for_function(f"({CYCLE})() === 0", timeout=30_000)
    _choose(page, "Play speed (cycles per second)", "50")
    _button(page, "▶").click()
    banner = page.locator(".ppsim-end-of-run")
    banner.wait_for(timeout=60_000)
    assert "20 of 20 cycles" in (banner.text_content() or "")
    assert page.evaluate(CYCLE) == 20
    assert _button(page, "Step").is_disabled()
    # Both buttons lie whole inside the sidebar's card.
    card = page.locator(".ppsim-run-card").bounding_box()
    for name in ("Continue for 20 more cycles", "Start again"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box is not None and card is not None
        assert card["x"] <= box["x"] and box["x"] + box["width"] <= card["x"] + card["width"]
        assert box["y"] + box["height"] <= HEIGHT
    _assert_sidebar_keeps_its_run_card_in_view(page)
    page.get_by_role("button", name="Continue for 20 more cycles").click()
    page.wait_for_function("!document.querySelector('.ppsim-end-of-run')", timeout=15_000)
    _step(page)
    assert page.evaluate(CYCLE) == 21
    _choose(page, "Play speed (cycles per second)", "10")


def test_faulty_shows_when_systems_are_evaluated_less_often(browser_page: tuple) -> None:
    page, _ = browser_page
    note = page.locator(".ppsim-net-legend .ppsim-legend-note").text_content() or ""
    assert note.startswith("Faulty:") and "evaluat" in note
    _choose(page, "How often each system is evaluated", "Every 5 cycles")
    _choose(page, "How far a fault spreads per cycle", "2 hops per cycle")
    cue = page.locator(".ppsim-reset-cue")
    cue.wait_for(timeout=10_000)
    assert "How often each system is evaluated" in (cue.text_content() or "")
    _button(page, "Reset").click()
    page.wait_for_function(f"({CYCLE})() === 0", timeout=30_000)
    faulty = 0
    for _ in range(8):
        _step(page)
        faulty = max(faulty, _count(page.evaluate(LEGEND)["status-2"]))
    assert faulty > 0
    _choose(page, "How often each system is evaluated", "Every cycle")
    _choose(page, "How far a fault spreads per cycle", "1 hop per cycle")


def test_cascades_view_draws_the_touched_systems_and_zooms_to_a_cascade(
    browser_page: tuple,
) -> None:
    page, _ = browser_page
    _button(page, "Reset").click()
    page.wait_for_function(f"({CYCLE})() === 0", timeout=30_000)
    _step(page, 10)
    _choose(page, "Network view", "Cascades: faulty systems and their trees")
    page.wait_for_function(f"({LEGEND})()['status-0'].includes('not drawn')", timeout=15_000)
    legend = page.evaluate(LEGEND)
    touched = sum(_count(legend[f"status-{i}"]) for i in range(1, 5))
    drawn = page.evaluate(COUNT_NODES)
    assert 0 < drawn <= touched  # healthy systems are not markers in this view
    assert _count(legend["link:cascade"]) >= 1
    exposed = page.locator(".ppsim-net-legend [data-meta='link:exposed']")
    assert "ppsim-legend-off" in (exposed.get_attribute("class") or "")
    ranges = f"""() => {{ const l = document.getElementById('{NETWORK_ID}')._fullLayout;
        return [l.xaxis.range[1] - l.xaxis.range[0], l.yaxis.range[1] - l.yaxis.range[0]]; }}"""
    before = page.evaluate(ranges)
    button = page.locator(".ppsim-cascade-button").first
    button.wait_for(timeout=10_000)
    system = int((button.text_content() or "").split("system ")[1].split(":")[0])
    button.click()
    page.wait_for_function(
        DETAILS_SHOW.format(f"System {system} "),
        timeout=15_000,
    )
    page.wait_for_function(f"({ranges})()[1] < {before[1]} * 0.9", timeout=15_000)
    assert page.locator(".ppsim-zoom-cascade").count() == 1
    _button(page, "Clear").click()
    _choose(page, "Network view", "Every system")
    page.wait_for_function(f"({COUNT_NODES})() > {drawn}", timeout=15_000)


def test_a_refusal_uses_the_sidebars_words_and_reaches_the_terminal(
    browser_page: tuple, server: dict
) -> None:
    page, _ = browser_page
    _choose(page, "Which AI models (behaviour profiles)", "Honest only (never shields)")
    page.wait_for_timeout(500)  # the list closes
    _choose(page, "Who evaluates and manages each system", "A model of another family")
    _button(page, "Reset").click()
    error = page.locator(".ppsim-build-error")
    error.wait_for(timeout=30_000)
    text = error.text_content() or ""
    assert "A model of another family" in text and "Which AI models" in text
    assert "cross-family" not in text and "profile_mix" not in text
    page.wait_for_timeout(500)
    # ppsim viz relays the server's warning to its terminal as it happens, and its log.
    assert "WARNING ppsim viz: settings that cannot be run" in server["log"]()
    _choose(page, "Who evaluates and manages each system", "Its collaborators (trusted neighbours)")
    _button(page, "Reset").click()
    page.wait_for_function(f"({CYCLE})() === 0", timeout=30_000)


def test_random_clicks_never_break_the_page(browser_page: tuple, server: dict) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page, _ = browser_page
    rng = random.Random(13)
    sizes = ["100", "120", "200"]

    def press(name: str) -> None:
        # A button may turn disabled (or change its name) between a look and a click.
        with contextlib.suppress(PlaywrightTimeout):
            _button(page, name).click(timeout=1_000)

    def play_pause() -> None:
        press("❚❚" if _button(page, "❚❚").count() else "▶")

    def step() -> None:
        press("Step")

    def control() -> None:
        _choose(page, "Number of AI systems", rng.choice(sizes))

    def toggle_links() -> None:
        page.get_by_label("Show all links").click()

    def click_system() -> None:
        point = page.evaluate(POINT, ["nodes", None])
        if point:
            page.mouse.click(point[0], point[1])

    actions = [play_pause] * 4 + [step] * 3 + [lambda: press("Reset")]
    actions += [control, toggle_links, click_system]
    for _ in range(50):
        rng.choice(actions)()
        page.wait_for_timeout(rng.choice([0, 30, 80, 200]))
    if _button(page, "❚❚").count():
        _button(page, "❚❚").click()
    page.wait_for_timeout(1_000)
    body = page.locator("body").text_content() or ""
    assert "Traceback" not in body and "Too many renders" not in body
    assert "Traceback" not in server["log"]()
    # Still working: Reset, then Step advances the drawing.
    _button(page, "Reset").click()
    page.wait_for_function(f"({CYCLE})() === 0", timeout=30_000)
    _step(page)


def test_screenshot_saved(browser_page: tuple, tmp_path: Path) -> None:
    page, _ = browser_page
    _step(page, 5)
    target = tmp_path / "app.png"
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
    process.wait(timeout=30)
    log = server["log"]()
    assert process.returncode == 0, log
    assert f"The app is running at {server['url']}" in log
    assert "Stopped." in log
    assert "Traceback" not in log
    # The log stays in the file named at the start and at the stop.
    named = [line.split(": ", 1)[1] for line in log.splitlines() if "server's log (" in line]
    assert named and f"The server's log is in {named[0]}" in log
    kept = Path(named[0]).read_text()
    assert "WARNING ppsim viz: settings that cannot be run" in kept
