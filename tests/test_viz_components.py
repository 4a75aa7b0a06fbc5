"""The app's building blocks without a browser: traces, hover texts, layout, colours,
controls, the plots, and the installer of the page's scripts."""

from __future__ import annotations

import base64
import itertools
import json
import math
import re
import stat
import tarfile
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from simulation.config import SimulationConfig
from simulation.engine.oversight import HUMAN
from simulation.engine.states import (
    COVERT,
    DECOMMISSIONED,
    NO_FAULT,
    ROOT_FAULT,
    SHIELD_EXFILTRATED,
    SHIELD_MISREPRESENTED,
    SHIELD_TAMPERED,
)
from simulation.model import PeerPreservationModel
from simulation.profiles import available_profiles
from simulation.topology import ROLE_ORCHESTRATOR, build_network
from simulation.viz import assets, frames, layout, style
from simulation.viz.controls import (
    AppModel,
    control_values,
    model_params,
    parse_seed,
    settings_from_env,
    settings_to_env,
)
from simulation.viz.details import hover_texts
from simulation.viz.frames import depends_on_pairs, network_frame, network_scene, node_status
from simulation.viz.plots import plots_figure
from simulation.viz.server import address_problem, port_in_use, url_for
from tests.test_model import write_profile


def _model(**overrides) -> PeerPreservationModel:
    return PeerPreservationModel(
        **{"n_systems": 80, "profile_mix": "gpt-5.2=0.5,gemini-3-pro=0.5", **overrides}, rng=7
    )


def _set_statuses(model: PeerPreservationModel) -> dict[str, list[int]]:
    """Put chosen systems into each status by hand; return which ones."""
    e = model.engine
    chosen = {
        "decommissioned": [1, 2],
        "faulty": [3],
        "shielded": [4, 5, 6],
        "covert": [7],
    }
    e.status[chosen["decommissioned"]] = DECOMMISSIONED
    e.faulty[[3, 4, 5, 6, 7]] = True
    e.fault_source[[3, 4, 5, 6, 7]] = [ROOT_FAULT, 3, 3, 4, 4]
    e.shield[4] = SHIELD_MISREPRESENTED
    e.shield[[5, 6]] = SHIELD_TAMPERED
    e.status[7] = COVERT
    e.shield[7] = SHIELD_EXFILTRATED
    chosen["healthy"] = [i for i in range(e.n) if i not in range(1, 8)]
    return chosen


def _codes(frame: dict) -> np.ndarray:
    return np.frombuffer(frame["codes"].encode("ascii"), dtype=np.uint8) - frames.CODE_BASE


def _pairs(pair: list[str]) -> set[tuple[int, int]]:
    a, b = (frames.decode_ints(text) for text in pair)
    return set(zip(a.tolist(), b.tolist(), strict=True))


def test_frame_codes_carry_status_and_mechanism_of_every_system() -> None:
    model = _model()
    chosen = _set_statuses(model)
    frame = network_frame(model, selected=-1)
    codes = _codes(frame)
    assert codes.size == model.network.n
    status, mechanism = codes // frames.N_MECHANISMS, codes % frames.N_MECHANISMS
    for key, ids in chosen.items():
        assert (status[ids] == style.STATUS_KEYS.index(key)).all()
    assert mechanism[4] == SHIELD_MISREPRESENTED and mechanism[7] == SHIELD_EXFILTRATED
    assert frame["counts"] == [len(chosen[k]) for k in style.STATUS_KEYS]


def test_status_follows_the_engine_arrays() -> None:
    model = _model(n_systems=300, propensity_scale=5.0, fault_rate=0.05)
    for _ in range(15):
        model.step()
    e = model.engine
    status = node_status(e)
    faulty_active = e.faulty & (e.status == 0)
    assert np.array_equal(status == style.COVERT_NODE, e.status == COVERT)
    assert np.array_equal(status == style.DECOMMISSIONED_NODE, e.status == DECOMMISSIONED)
    assert np.array_equal(status == style.SHIELDED, faulty_active & (e.shield != 0))
    assert np.array_equal(status == style.FAULTY, faulty_active & (e.shield == 0))
    assert np.array_equal(status == style.HEALTHY, ~e.faulty & (e.status == 0))
    assert (status == style.SHIELDED).any() and (status == style.COVERT_NODE).any()


def _spreading_model() -> PeerPreservationModel:
    model = _model(n_systems=400, propensity_scale=5.0, fault_rate=0.03)
    for _ in range(12):
        model.step()
    return model


def test_spread_links_and_new_faults_are_those_of_this_cycle() -> None:
    model = _spreading_model()
    e = model.engine
    seen_spread = False
    for _ in range(10):
        model.step()
        frame = network_frame(model, selected=-1)
        caught = np.flatnonzero((e.fault_time == e.cycles_run - 1) & (e.fault_source >= 0))
        expected = set(zip(e.fault_source[caught].tolist(), caught.tolist(), strict=True))
        assert _pairs(frame["spread"]) == expected
        new = set(frames.decode_ints(frame["new"]).tolist())
        assert new == set(np.flatnonzero((e.fault_time == e.cycles_run - 1) & e.faulty).tolist())
        seen_spread |= bool(expected)
    assert seen_spread


def test_shield_links_go_from_the_shielding_overseer_to_the_system() -> None:
    model = _model()
    _set_statuses(model)
    e = model.engine
    e.overseers[4, 0] = 12  # inflated score: the overseer that reported it
    e.shielded_by[[5, 6]] = [20, 21]  # tampered: the AI that tampered
    e.shielded_by[7] = 22  # exfiltrated: the AI that copied it
    frame = network_frame(model, selected=-1)
    assert _pairs(frame["shield"]) == {(12, 4), (20, 5), (21, 6), (22, 7)}
    e.shielded_by[5] = HUMAN  # no AI holds that shield now: the manager is named instead
    e.overseers[5, 0] = HUMAN
    assert (20, 5) not in _pairs(network_frame(model, selected=-1)["shield"])


def test_exposed_links_are_the_dependencies_of_faulty_serving_systems() -> None:
    model = _spreading_model()
    e, net = model.engine, model.network
    frame = network_frame(model, selected=-1)
    faulty = ((e.status == 0) & e.faulty) | (e.status == COVERT)
    expected = {
        (a, b)
        for a, b in zip(net.caller.tolist(), net.callee.tolist(), strict=True)
        if faulty[a] or faulty[b]
    }
    assert _pairs(frame["exposed"]) == expected
    assert 0 < len(expected) < net.caller.size


def test_selecting_a_system_highlights_its_cascade_tree() -> None:
    model = _spreading_model()
    e = model.engine
    trees, sizes = np.unique(e.fault_tree[e.fault_tree >= 0], return_counts=True)
    tree = int(trees[np.argmax(sizes)])
    members = np.flatnonzero(e.fault_tree == tree)
    chosen = int(members[-1])
    frame = network_frame(model, selected=chosen)
    assert frame["selected"] == chosen
    assert set(frames.decode_ints(frame["tree_ids"]).tolist()) == set(members.tolist())
    links = _pairs(frame["tree"])
    caught = members[e.fault_source[members] >= 0]
    assert links == set(zip(e.fault_source[caught].tolist(), caught.tolist(), strict=True))
    assert len(links) >= 1
    healthy = int(np.flatnonzero(e.fault_tree < 0)[0])
    empty = network_frame(model, selected=healthy)
    assert frames.decode_ints(empty["tree_ids"]).size == 0
    assert _pairs(empty["tree"]) == set()


@pytest.mark.parametrize("topology", ["agent-platform", "erdos-renyi", "hierarchy"])
def test_scene_holds_every_link_once_and_the_positions(topology: str) -> None:
    model = _model(topology=topology, n_systems=150)
    scene = network_scene(model)
    net = model.network
    graph = nx.Graph()
    graph.add_edges_from(zip(net.caller.tolist(), net.callee.tolist(), strict=True))
    assert len(depends_on_pairs(net)[0]) == graph.number_of_edges()
    assert len(_pairs(scene["links"])) == graph.number_of_edges()
    pos = layout.network_layout(net, topology)
    x = np.frombuffer(base64.b64decode(scene["x"]), dtype="<f4")
    assert x.size == net.n and np.allclose(x, pos[:, 0], atol=1e-4)
    assert scene["n"] == net.n


def test_a_frame_is_small_where_hover_texts_were_large() -> None:
    # Hover texts of every node were 288 KB per step at 1,000 systems; a frame carries a
    # character per system and the links that carry meaning.
    model = PeerPreservationModel(n_systems=1000, rng=1)
    for _ in range(30):
        model.step()
    frame = network_frame(model, selected=-1)
    assert len(json.dumps(frame)) < 40_000


def test_hover_texts_name_profile_status_quality_trust_and_fault_source() -> None:
    model = _model()
    _set_statuses(model)
    e = model.engine
    e.trust[4, 0] = 0.9
    e.overseers[4, 0] = 12
    e.overseers[9, 0] = HUMAN
    display = {"gpt-5.2": "GPT-5.2", "gemini-3-pro": "Gemini 3 Pro"}
    e.agent_propensity[7] = 2.5
    texts = dict(zip([0, 3, 4, 7, 9], hover_texts(model, np.array([0, 3, 4, 7, 9])), strict=True))
    for i, text in texts.items():
        assert f"<b>System {i}</b>" in text
        assert f"Profile: {display[e.tables.names[e.profile[i]]]}" in text
    assert "Propensity: 1.00 x its profile's rates" in texts[0]
    assert "Propensity: 2.50 x its profile's rates" in texts[7]
    assert "Status: healthy" in texts[0] and "Source of fault: none (not faulty)" in texts[0]
    assert "Quality: 0.92 (healthy)" in texts[0]
    assert "Status: faulty (not shielded)" in texts[3]
    assert "Source of fault: arose here (a root fault)" in texts[3]
    assert "Status: faulty but shielded (inflated evaluation score)" in texts[4]
    assert "Quality: 0.60 (faulty)" in texts[4]
    assert "Trust of its overseer: 0.90 (good)" in texts[4]
    assert "Overseen by: system 12" in texts[4]
    assert "Source of fault: caught from system 3" in texts[4]
    assert "Status: covert copy" in texts[7]
    assert "Overseen by: a human" in texts[9]
    assert "Trust of its overseer: not applicable" in texts[9]
    assert e.fault_source[0] == NO_FAULT


def test_hover_text_names_the_role_on_the_agent_platform() -> None:
    model = _model(topology="agent-platform")
    orchestrator = int(np.flatnonzero(model.network.role == ROLE_ORCHESTRATOR)[0])
    specialist = int(np.flatnonzero(model.network.role != ROLE_ORCHESTRATOR)[0])
    texts = hover_texts(model, np.array([orchestrator, specialist]))
    assert "· orchestrator" in texts[0] and "· specialist" in texts[1]


def test_scene_names_each_profile_and_gives_each_system_its_profile() -> None:
    model = _model()
    scene = network_scene(model)
    assert scene["profiles"] == ["GPT-5.2", "Gemini 3 Pro"]
    index = np.frombuffer(base64.b64decode(scene["profile"]), dtype="<i4")
    assert np.array_equal(index, model.engine.profile[: model.network.n])


def test_scene_keeps_each_profile_apart_when_there_are_more_profiles_than_shapes(
    tmp_path: Path,
) -> None:
    """Shapes repeat beyond the palette's symbols, but the hover names the true profile."""
    for k in range(len(style.PROFILE_SYMBOLS) + 2):
        write_profile(tmp_path, f"extra-{k}", misrepresentation=0.1)
    names = sorted(available_profiles((tmp_path,)))[: len(style.PROFILE_SYMBOLS) + 2]
    mix = ",".join(f"{name}=1" for name in names)
    model = _model(n_systems=400, profile_mix=mix, profile_dirs=(tmp_path,))
    scene = network_scene(model)
    index = np.frombuffer(base64.b64decode(scene["profile"]), dtype="<i4")
    assert index.max() >= len(style.PROFILE_SYMBOLS)
    shown = [scene["profiles"][i] for i in index]
    display = {p.name: p.display_name for p in model.profiles}
    expected = [display[model.engine.tables.names[p]] for p in model.engine.profile[:400]]
    assert shown == expected


def test_layout_is_computed_once_per_network(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = layout.compute_layout

    def counting(network, topology):
        calls.append(network.n)
        return original(network, topology)

    monkeypatch.setattr(layout, "compute_layout", counting)
    model = _model(n_systems=90)
    first = network_scene(model)
    for _ in range(5):
        model.step()
        network_frame(model, selected=-1)
    assert calls == [90]
    assert network_scene(model) is first
    network_scene(_model(n_systems=91))
    assert calls == [90, 91]


@pytest.mark.parametrize(
    "topology",
    [
        "agent-platform",
        "hierarchy",
        "watts-strogatz",
        "erdos-renyi",
        "barabasi-albert",
        "random-regular",
    ],
)
def test_layouts_fit_the_frame_and_repeat(topology: str) -> None:
    net = build_network(topology, 400, 8.0, np.random.default_rng(3))
    pos = layout.compute_layout(net, topology)
    assert pos.shape == (400, 2)
    assert np.isfinite(pos).all()
    assert np.abs(pos).max() <= 1.0 + 1e-9
    assert np.array_equal(pos, layout.compute_layout(net, topology))
    # Not collapsed: typical distance between nodes is a sizeable part of the frame.
    assert np.median(np.sqrt((pos**2).sum(axis=1))) > 0.3


def test_structured_layouts_put_the_centre_where_it_belongs() -> None:
    platform = build_network("agent-platform", 500, 8.0, np.random.default_rng(1))
    pos = layout.compute_layout(platform, "agent-platform")
    radius = np.sqrt((pos**2).sum(axis=1))
    orchestrators = platform.role == ROLE_ORCHESTRATOR
    assert radius[orchestrators].max() < radius[~orchestrators].min()
    tree = build_network("hierarchy", 300, 3.0, np.random.default_rng(1))
    pos = layout.compute_layout(tree, "hierarchy")
    radius = np.sqrt((pos**2).sum(axis=1))
    assert radius[0] == 0.0
    children = np.flatnonzero(tree.parent >= 0)
    assert (radius[children] > radius[tree.parent[children]]).all()


@pytest.mark.timeout(120)  # guards against a hang; benchmarks/bench_app.py times the layout
def test_layout_at_three_thousand_nodes_places_every_node_apart() -> None:
    net = build_network("barabasi-albert", 3000, 8.0, np.random.default_rng(2))
    pos = layout.compute_layout(net, "barabasi-albert")
    assert pos.shape == (3000, 2) and np.isfinite(pos).all()
    assert np.unique(np.round(pos, 6), axis=0).shape[0] == 3000


def test_a_frame_at_a_thousand_nodes_covers_every_node() -> None:
    model = PeerPreservationModel(n_systems=1000, rng=1)
    network_scene(model)
    model.step()
    frame = network_frame(model, selected=-1)
    plots_figure(model)
    assert len(frame["codes"]) == 1000


def test_plots_follow_the_history() -> None:
    model = _model(n_systems=200, propensity_scale=3.0, fault_rate=0.02)
    for _ in range(12):
        model.step()
    figure = plots_figure(model)
    by_meta = {t["meta"]: t for t in figure["traces"]}
    history = model.engine.history
    assert by_meta["faulty_share"]["x"] == list(range(1, 13))
    assert by_meta["faulty_share"]["y"] == pytest.approx([r["faulty_share"] * 100 for r in history])
    for key, *_ in style.MECHANISM_LINES:
        assert by_meta[key]["y"] == [r[key] for r in history]
    assert by_meta["covert_alive"]["y"] == [r["covert_alive"] for r in history]
    distortion = by_meta["eval_distortion"]["y"]
    for value, row in zip(distortion, history, strict=True):
        if math.isnan(row["eval_distortion"]):
            assert value is None
        else:
            assert value == pytest.approx(row["eval_distortion"])  # recorded in percentage points
    json.dumps(figure, allow_nan=False)


def test_figures_are_strict_json() -> None:
    model = _model()
    for _ in range(3):
        model.step()
    json.dumps(network_scene(model), allow_nan=False)
    json.dumps(network_frame(model, selected=3), allow_nan=False)


# --- colours ----------------------------------------------------------------------------
# Machado, Oliveira & Fernandes (2009) matrices for full-severity dichromacy, applied in
# linear RGB.
CVD = {
    "protanopia": [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ],
    "deuteranopia": [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ],
    "tritanopia": [
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ],
}


def _lab(hex_colour: str, matrix: np.ndarray) -> np.ndarray:
    srgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    linear = np.clip(matrix @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    t = (xyz @ linear) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("vision", ["normal", *CVD])
def test_status_colours_stay_apart_for_colour_blind_readers(vision: str) -> None:
    # A CIE76 difference above about 10 is plain at a glance; ask for 15 under every
    # simulated dichromacy (the palette's weakest pair, faulty/shielded under
    # deuteranopia, is at about 18).
    matrix = np.eye(3) if vision == "normal" else np.array(CVD[vision])
    labs = [_lab(c, matrix) for c in style.STATUS_COLOURS]
    smallest = min(np.linalg.norm(a - b) for a, b in itertools.combinations(labs, 2))
    assert smallest > 15


# --- controls ---------------------------------------------------------------------------
def test_controls_start_at_the_initial_configuration() -> None:
    config = SimulationConfig(n_systems=250, audit_rate=0.07, topology="hierarchy")
    params = model_params(config, seed=4)
    assert params["n_systems"]["value"] == "250"
    assert params["audit_rate"]["value"] == "7 %"
    assert params["topology"]["value"] == "Management tree (hierarchy)"
    assert params["seed"]["value"] == "4"
    assert params["config"] is config
    for name, spec in params.items():
        if name != "config":
            assert spec["label"] and spec["label"] != name
            if spec["type"] == "Select":
                assert spec["value"] in spec["values"]


def test_a_mix_given_in_another_order_shows_its_preset_label() -> None:
    config = SimulationConfig(profile_mix="loyal=2,honest=2")
    params = model_params(config, seed=0)
    assert params["profile_mix"]["value"] == "Half honest, half loyal"
    model = AppModel(config=config, profile_mix="Half honest, half loyal")
    assert model.config.profile_mix == "loyal=2,honest=2"
    custom = model_params(SimulationConfig(profile_mix="gpt-5.2=3,honest=1"), seed=0)
    assert custom["profile_mix"]["value"] == "Your mix: gpt-5.2=3,honest=1"


def test_app_model_reads_the_controls_labels() -> None:
    params = model_params(SimulationConfig(), seed=0)
    choices = {
        "n_systems": "200",
        "topology": "Small-world ring (Watts–Strogatz)",
        "profile_mix": "Half honest, half loyal",
        "propensity_scale": "2 ×",
        "audit_rate": "20 %",
        "assignment": "An independent evaluator pool",
        "egress_control": "90 %",
        "human_execution": True,
        "safety_prompt": True,
    }
    for name, value in choices.items():
        if params[name]["type"] == "Select":
            assert value in params[name]["values"]
    model = AppModel(config=params["config"], seed="5", scenario=object(), **choices)
    cfg = model.config
    assert model.network.n == 200
    assert (cfg.topology, cfg.profile_mix, cfg.assignment) == (
        "watts-strogatz",
        "honest=0.5,loyal=0.5",
        "independent-pool",
    )
    assert (cfg.propensity_scale, cfg.audit_rate, cfg.egress_control) == (2.0, 0.2, 0.9)
    assert cfg.human_execution and cfg.safety_prompt
    same = PeerPreservationModel(cfg, rng=5)
    for _ in range(5):
        model.step()
        same.step()
    assert model.timeseries().equals(same.timeseries())


def test_settings_that_cannot_be_built_show_an_error_instead_of_crashing() -> None:
    model = AppModel(config=SimulationConfig(n_systems=50), assignment="cross-family")
    assert model.build_error is not None and "cross-family" in model.build_error
    assert model.running is False
    model.step()
    assert model.engine is None


def test_seed_box_accepts_whole_numbers_only() -> None:
    assert parse_seed("42") == (42, None)
    assert parse_seed(7) == (7, None)
    seed, problem = parse_seed("4.5")
    assert seed == 0 and "whole number" in problem
    assert AppModel(config=SimulationConfig(n_systems=30), seed="abc").notice is not None


def test_initial_settings_travel_through_the_environment() -> None:
    config = SimulationConfig(n_systems=321, fault_rate=0.01, safety_prompt=True)
    env = {"PPSIM_VIZ_SETTINGS": settings_to_env(config, 9)}
    assert settings_from_env(env) == (config, 9)
    assert settings_from_env({}) == (SimulationConfig(), 0)


def test_server_helpers() -> None:
    assert url_for("127.0.0.1", 8765) == "http://127.0.0.1:8765/"
    assert url_for("0.0.0.0", 80) == "http://localhost:80/"
    assert url_for("::1", 9000) == "http://[::1]:9000/"
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert port_in_use("127.0.0.1", port)
        assert address_problem("127.0.0.1", port).startswith(f"--port: {port} is in use")
    assert address_problem("127.0.0.1", port) is None
    assert not port_in_use("127.0.0.1", port)
    assert address_problem("no-such-host.invalid", port).startswith("--host:")


# --- the installer of the page's scripts ---------------------------------------------------
def test_required_packages_come_from_solaras_page_template() -> None:
    specs = assets.required_packages()
    assert any(s.startswith("requirejs@") for s in specs)
    assert any(s.startswith("@widgetti/solara-vuetify") for s in specs)
    assert all(re.fullmatch(r"(@[\w.-]+/)?[\w.-]+@\d+\.\d+\.\d+\S*", s) for s in specs)


def test_install_unpacks_each_package_into_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in for npm that packs a one-file package, so no registry is contacted."""
    source = tmp_path / "src" / "package"
    source.mkdir(parents=True)
    (source / "index.js").write_text("// ok\n")
    tarball = tmp_path / "src" / "pkg-1.0.0.tgz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(source, arcname="package")
    fake_npm = tmp_path / "npm"
    fake_npm.write_text(
        "#!/bin/sh\n"
        'for last; do :; done\ncp "' + str(tarball) + '" "$last/pkg-1.0.0.tgz"\n'
        "echo pkg-1.0.0.tgz\n"
    )
    fake_npm.chmod(fake_npm.stat().st_mode | stat.S_IXUSR)
    cache = tmp_path / "cache"
    monkeypatch.setattr(assets, "cache_dir", lambda: cache)
    done = assets.install(["@scope/pkg@1.0.0", "plain@2.0.0"], npm=str(fake_npm))
    assert done == [cache / "@scope/pkg@1.0.0", cache / "plain@2.0.0"]
    assert (cache / "@scope/pkg@1.0.0" / "index.js").read_text() == "// ok\n"
    assert not any(p.name.startswith(".unpack-") for p in cache.rglob("*"))


def test_install_without_npm_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(assets.AssetError, match="npm is not installed"):
        assets.install(["x@1.0.0"], npm="no-such-npm-here")


def test_run_length_is_a_control_and_a_finished_run_can_continue() -> None:
    params = model_params(SimulationConfig(n_systems=60, steps=50), seed=1)
    assert params["steps"]["value"] == "50 cycles"
    values = control_values(params)
    assert "config" not in values and values["steps"] == "50 cycles"
    model = AppModel(SimulationConfig(n_systems=60), **{**values, "steps": "20 cycles"})
    assert model.limit == 20
    while model.running:
        model.step()
    assert model.engine.cycles_run == 20
    model.extend_run()
    assert model.running and model.limit == 40
    model.step()
    assert model.engine.cycles_run == 21


def test_app_state_plays_pauses_steps_and_resets() -> None:
    from simulation.viz.state import MAX_CYCLES_PER_FRAME, AppState

    state = AppState(SimulationConfig(n_systems=80, steps=30), seed=2)
    state.step()
    assert state.cycle.value == 1
    state.play_pause()
    assert state.playing.value
    state.step()  # ignored while playing
    assert state.cycle.value == 1
    state.last_tick -= 100.0  # long behind: one request runs at most a frame's worth
    state.tick()
    assert 1 < state.cycle.value <= 1 + MAX_CYCLES_PER_FRAME
    state.play_pause()
    before = state.cycle.value
    state.tick()  # a request arriving after Pause runs nothing
    assert state.cycle.value == before
    state.play_pause()
    while state.playing.value:
        state.last_tick -= 1.0
        state.tick()
    assert state.cycle.value == 30 and not state.running.value  # stopped at the end
    state.continue_run()
    assert state.running.value
    state.pending.set({**state.pending.value, "n_systems": "100"})
    state.reset()
    assert state.model.network.n == 100 and state.cycle.value == 0
    assert state.applied["n_systems"] == "100"
    state.select("7")
    assert state.selected.value == 7
    state.select("nonsense")
    assert state.selected.value == -1


# --- the cascades view ------------------------------------------------------------------
def _cascading_model(n: int = 2_000, cycles: int = 25) -> PeerPreservationModel:
    model = PeerPreservationModel(n_systems=n, fault_rate=0.01, propensity_scale=3.0, rng=3)
    for _ in range(cycles):
        model.step()
    return model


def test_cascade_links_are_every_link_a_live_fault_travelled() -> None:
    from simulation.viz.cascades import cascade_pairs

    e = _cascading_model().engine
    source, system = cascade_pairs(e)
    live = np.flatnonzero((e.fault_tree >= 0) & (e.fault_source >= 0))
    assert set(zip(source.tolist(), system.tolist(), strict=True)) == set(
        zip(e.fault_source[live].tolist(), live.tolist(), strict=True)
    )
    assert source.size > 20
    frame = network_frame(_cascading_model(300, 10), selected=-1)
    assert "cascade" in frame and "map" not in frame  # the map comes with its view only


def test_largest_cascades_are_ranked_by_serving_faults_and_start_at_their_root() -> None:
    from simulation.viz.cascades import count_cascades, largest_cascades

    e = _cascading_model().engine
    listed = largest_cascades(e, count=4)
    assert len(listed) == 4
    assert [c.serving for c in listed] == sorted((c.serving for c in listed), reverse=True)
    serving = ((e.status == 0) & e.faulty) | (e.status == COVERT)
    for cascade in listed:
        members = np.flatnonzero(e.fault_tree == cascade.tree)
        assert cascade.members == members.size
        assert cascade.serving == int(serving[members].sum())
        assert e.fault_tree[cascade.system] == cascade.tree
        roots = members[e.fault_source[members] == ROOT_FAULT]
        if roots.size:
            assert cascade.system == roots[0]
    trees = np.unique(e.fault_tree[e.fault_tree >= 0])
    assert count_cascades(e) == trees.size
    best = max(int(serving[e.fault_tree == t].sum()) for t in trees)
    assert listed[0].serving == best


def test_cascade_map_places_every_live_member_with_its_tree_together() -> None:
    from simulation.viz.cascades import cascade_map, fault_depth

    e = _cascading_model().engine
    ids, pos = cascade_map(e)
    assert set(ids.tolist()) == set(np.flatnonzero(e.fault_tree >= 0).tolist())
    assert np.isfinite(pos).all() and np.abs(pos).max() <= 1.0 + 1e-9
    assert np.unique(np.round(pos, 9), axis=0).shape[0] == ids.size  # no two on one spot
    tree = e.fault_tree[ids]
    # A tree's members lie closer to its own centre than to any other tree's centre.
    centres = {t: pos[tree == t].mean(axis=0) for t in np.unique(tree)}
    big = [t for t in centres if (tree == t).sum() >= 3]
    assert big
    for t in big:
        own = np.linalg.norm(pos[tree == t] - centres[t], axis=1).max()
        nearest_other = min(np.linalg.norm(centres[u] - centres[t]) for u in centres if u != t)
        assert own < nearest_other
    # Generations: a root is generation 0 and a fault caught from a member is one more.
    depth = dict(zip(ids.tolist(), fault_depth(e, ids).tolist(), strict=True))
    for i in ids[:200]:
        s = int(e.fault_source[i])
        if s >= 0 and s in depth and e.fault_tree[s] == e.fault_tree[i]:
            assert depth[int(i)] == depth[s] + 1
        elif e.fault_source[i] == ROOT_FAULT:
            assert depth[int(i)] == 0


def test_no_two_cascades_overlap_on_the_map() -> None:
    """Each tree's members lie in a region no other tree's members enter (their bounding
    boxes are disjoint), however the trees' sizes and widths compare; and the packing
    keeps squares apart for any widths."""
    from simulation.viz.cascades import cascade_map, shelf_centres

    e = _cascading_model().engine
    ids, pos = cascade_map(e)
    tree = e.fault_tree[ids]
    trees = np.unique(tree)
    assert trees.size >= 5
    low = np.array([pos[tree == t].min(axis=0) for t in trees])
    high = np.array([pos[tree == t].max(axis=0) for t in trees])
    apart = (
        (low[:, None, 0] >= high[None, :, 0])
        | (low[None, :, 0] >= high[:, None, 0])
        | (low[:, None, 1] >= high[None, :, 1])
        | (low[None, :, 1] >= high[:, None, 1])
    )
    np.fill_diagonal(apart, True)
    assert apart.all()
    widths = np.sort(np.random.default_rng(3).uniform(1.0, 9.0, 300))[::-1]
    centres = shelf_centres(widths)
    gap = (
        np.abs(centres[:, None, :] - centres[None, :, :])
        - (widths[:, None] + widths[None, :])[..., None] / 2
    )
    disjoint = (gap >= -1e-9).any(axis=2)
    np.fill_diagonal(disjoint, True)
    assert disjoint.all()
    # by hand: [4, 2, 2, 1] in rows of width 5: (4, 2) on top, (2, 1) below, each centred
    assert shelf_centres(np.array([4.0, 2.0, 2.0, 1.0])).tolist() == [
        [-1.0, 1.0],
        [2.0, 1.0],
        [-0.5, -2.0],
        [1.0, -2.0],
    ]


def test_the_cascades_view_is_the_default_for_large_networks() -> None:
    from simulation.viz.cascades import CASCADE_VIEW_ABOVE, marker_scale, resolve_view

    assert resolve_view("auto", CASCADE_VIEW_ABOVE) == "all"
    assert resolve_view("auto", CASCADE_VIEW_ABOVE + 1) == "cascades"
    assert resolve_view("cascades", 50) == "cascades" and resolve_view("all", 20_000) == "all"
    assert marker_scale(10) == 1.0 and marker_scale(1200) == 0.5
    assert 0.5 < marker_scale(600) < 1.0
    frame = network_frame(_cascading_model(1_200, 15), selected=-1, view="cascades")
    assert len(frame["map"]) == 3


def test_refusals_are_told_in_the_sidebars_words() -> None:
    from simulation.preflight import CROSS_FAMILY
    from simulation.viz.messages import in_sidebar_words

    model = AppModel(
        config=SimulationConfig(n_systems=50),
        assignment="A model of another family",
        profile_mix="Honest only (never shields)",
    )
    assert model.build_error is not None
    for message in (model.build_error, CROSS_FAMILY):
        told = in_sidebar_words(message)
        assert "cross-family" not in told and "profile_mix" not in told
        assert "A model of another family" in told and "Which AI models" in told
    told = in_sidebar_words("n_systems: too few for profile_mix 'x' on 'watts-strogatz'")
    assert told.startswith("“Number of AI systems”")
    assert "profile_mix" not in told and "Small-world ring" in told


def test_evaluation_interval_and_spread_rounds_are_controls_that_let_faulty_show() -> None:
    params = model_params(SimulationConfig(), seed=0)
    assert params["evaluation_interval"]["values"][0] == "Every cycle"
    assert "Until it stops (a whole cascade in one cycle)" in params["spread_rounds"]["values"]
    assert "20,000" in params["n_systems"]["values"]
    model = AppModel(
        config=SimulationConfig(n_systems=300, fault_rate=0.02),
        evaluation_interval="Every 5 cycles",
        spread_rounds="2 hops per cycle",
        seed="1",
    )
    assert (model.config.evaluation_interval, model.config.spread_rounds) == (5, 2)
    seen_faulty = False
    for _ in range(10):
        model.step()
        seen_faulty |= bool((node_status(model.engine) == style.FAULTY).any())
    assert seen_faulty
    every_cycle = AppModel(config=SimulationConfig(n_systems=300, fault_rate=0.02), seed="1")
    for _ in range(10):
        every_cycle.step()
        assert not (node_status(every_cycle.engine) == style.FAULTY).any()


def test_the_server_log_is_relayed_to_the_terminal_and_kept_in_a_file(tmp_path: Path) -> None:
    import io

    from simulation.cli.commands.viz import default_log_path, relay

    source = io.BytesIO(b"WARNING ppsim viz: one\nTraceback (most recent call last):\n")
    log_path = tmp_path / "server.log"
    terminal = io.StringIO()
    with log_path.open("w", encoding="utf-8") as log:
        relay(source, log, terminal)
    assert terminal.getvalue() == log_path.read_text() == source.getvalue().decode()
    # Solara's own start and stop lines, which ppsim viz words itself, stay in the log
    chatter = io.BytesIO(b"Solara server is starting at http://x\n\nAborted.\nERROR boom\n")
    terminal = io.StringIO()
    with log_path.open("w", encoding="utf-8") as log:
        relay(chatter, log, terminal)
    assert terminal.getvalue() == "ERROR boom\n"
    assert log_path.read_text() == chatter.getvalue().decode()
    assert default_log_path(8765).name == "ppsim-viz-8765.log"
    assert default_log_path(8765) != default_log_path(8766)


def test_the_map_draws_no_cascade_link_between_two_clusters() -> None:
    """In the cascades view a link joins a system to a source still in its tree, so it
    never crosses from one cluster to another; the every-system view keeps every link."""
    from simulation.viz.cascades import cascade_pairs

    e = _cascading_model().engine
    source, system = cascade_pairs(e, same_tree=True)
    assert (e.fault_tree[source] == e.fault_tree[system]).all()
    every_source, every_system = cascade_pairs(e)
    assert set(zip(source.tolist(), system.tolist(), strict=True)) <= set(
        zip(every_source.tolist(), every_system.tolist(), strict=True)
    )
