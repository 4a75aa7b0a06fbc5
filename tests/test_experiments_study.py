"""Study files: parsing, validation of bad files, designs, seeds, and the shipped studies."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from simulation.cli import app
from simulation.experiments.design import latin_hypercube, make_plan
from simulation.experiments.runner import execute_run
from simulation.experiments.study_file import (
    StudyError,
    load_study,
    parse_study,
    parse_vary_option,
)
from simulation.seeding import derive_seed

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
TINY = {"n_systems": 100, "steps": 20}


def write(tmp_path: Path, text: str, name: str = "study.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(StudyError) as info:
        load_study(path)
    message = str(info.value)
    assert message.startswith(str(path)), message  # every message names the file
    return message


# --------------------------------------------------------------------------------------
# Valid studies


def test_ranges_lists_and_distributions_resolve() -> None:
    study = parse_study(
        {
            "kind": "sweep",
            "design": "lhs",
            "samples": 5,
            "base": TINY,
            "vary": {
                "audit_rate": {"range": [0, 0.5], "num": 6},
                "propensity_scale": [0, 1],
                "replacement_delay": {"start": 2, "stop": 8, "step": 3},
                "beta": {"uniform": [0.05, 0.2]},
                "fault_rate": {"loguniform": [0.001, 0.01]},
                "topology": {"choice": ["hierarchy", "erdos-renyi"]},
            },
        },
        "demo.toml",
    )
    by_name = {v.name: v for v in study.vary}
    assert by_name["audit_rate"].values == (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
    assert by_name["propensity_scale"].values == (0.0, 1.0)  # ints become the field's float
    assert all(isinstance(x, float) for x in by_name["propensity_scale"].values)
    assert by_name["replacement_delay"].values == (2, 5, 8)
    assert (by_name["beta"].form, by_name["beta"].low, by_name["beta"].high) == (
        "uniform",
        0.05,
        0.2,
    )
    plan = make_plan(study)
    assert len(plan.runs) == 5
    for values in plan.scenarios:
        assert 0.05 <= values["beta"] <= 0.2
        assert 0.001 <= values["fault_rate"] <= 0.01
        assert values["topology"] in ("hierarchy", "erdos-renyi")
        assert values["audit_rate"] in by_name["audit_rate"].values


def test_resolved_study_round_trips_with_the_same_fingerprint(tmp_path: Path) -> None:
    study = load_study(EXPERIMENTS / "oversight-whatif.toml")
    again = load_study(write(tmp_path, study.to_toml()))
    assert again.fingerprint() == study.fingerprint()
    assert again.arms == study.arms and again.vary == study.vary
    # Presentation keys do not change the fingerprint; anything that changes runs does.
    text = (EXPERIMENTS / "oversight-whatif.toml").read_text()
    renamed = load_study(write(tmp_path, text.replace('name = "oversight-whatif"', 'name = "x"')))
    assert renamed.fingerprint() == study.fingerprint()
    more = load_study(write(tmp_path, text.replace("replicates = 3", "replicates = 4")))
    assert more.fingerprint() != study.fingerprint()


def test_distributions_and_unset_parameters_round_trip_through_toml(tmp_path: Path) -> None:
    study = parse_study(
        {
            "kind": "sensitivity",
            "base": {**TINY, "propensity": None},
            "vary": {"beta": {"uniform": [0.05, 0.2]}, "n_systems": {"integers": [50, 80]}},
        },
        "demo.toml",
    )
    again = load_study(write(tmp_path, study.to_toml()))
    assert again.vary == study.vary and again.base == study.base
    assert again.fingerprint() == study.fingerprint()


def test_study_file_also_works_as_a_run_config(tmp_path: Path) -> None:
    from simulation.cli.options import read_config_file

    params, seed = read_config_file(EXPERIMENTS / "propensity-by-audit.toml")
    assert params["n_systems"] == 1000 and seed == 2026


# --------------------------------------------------------------------------------------
# Bad files: rejected before anything runs, naming the file, the key and what is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[vary]\naudit_rat = [0, 0.1]\n", ["[vary]", "'audit_rat'", "did you mean 'audit_rate'"]),
        ("[base]\nn_sytems = 100\n", ["base", "'n_sytems'", "did you mean 'n_systems'"]),
        ("replicats = 3\n", ["replicats", "did you mean 'replicates'"]),
        ('outcomes = ["faulty_share_maen"]\n', ["outcomes[0]", "did you mean 'faulty_share_mean'"]),
        ('[vary]\naudit_rate = ["high"]\n', ["vary.audit_rate[0]", "a number in [0, 1]"]),
        ("[vary]\naudit_rate = [0.1, 1.5]\n", ["vary.audit_rate[1]", "outside the allowed"]),
        ('[base]\nn_systems = "many"\n', ["base.n_systems", "an integer"]),
        ("[vary]\nhuman_execution = [1]\n", ["vary.human_execution[0]", "true or false"]),
        ('[vary]\ntopology = ["erdos-renyii"]\n', ["topology[0]", "did you mean 'erdos-renyi'"]),
        ("[vary]\naudit_rate = []\n", ["vary.audit_rate", "empty list"]),
        (
            "[vary]\naudit_rate = { range = [0.2, 0.2], num = 4 }\n",
            ["vary.audit_rate", "empty range"],
        ),
        (
            "[vary]\naudit_rate = { range = [0.0, 0.5], num = 0 }\n",
            ["vary.audit_rate.num", "empty range"],
        ),
        (
            "[vary]\naudit_rate = { start = 0.5, stop = 0.0, step = 0.1 }\n",
            ["vary.audit_rate", "empty range"],
        ),
        (
            'design = "lhs"\nsamples = 4\n[vary]\nbeta = { uniform = [0.3, 0.1] }\n',
            ["vary.beta.uniform", "empty range"],
        ),
        ("[vary]\nbeta = { uniform = [0.0, 0.2] }\n", ["vary.beta", "design = 'lhs'"]),
        ("[vary]\nbeta = { unifrom = [0.0, 0.2] }\n", ["vary.beta", "did you mean 'uniform'"]),
        ("[vary]\nbeta = 0.1\n", ["vary.beta", "fixed values go in [base]"]),
        (
            'design = "lhs"\nsamples = 4\n[vary]\nn_systems = { uniform = [10, 20] }\n',
            ["vary.n_systems.uniform", "integers = [low, high]"],
        ),
        ('design = "grid"\n', ["design", "'grid'", "one of factorial, lhs"]),
        ('kind = "sweeep"\n', ["kind", "did you mean 'sweep'"]),
        ("replicates = 0\n", ["replicates", "integer >= 1"]),
        ('[base]\nprofile_mix = "gpt-5"\n', ["base.profile_mix", "unknown profile"]),
        (
            '[base]\ntopology = "file"\ngraph_file = "no/such/graph.txt"\n',
            ["base.graph_file", "does not exist"],
        ),
        ('kind = "whatif"\nreplicates = 2\n', ["arms", "at least one arm"]),
        (
            'kind = "whatif"\nreplicates = 2\n[vary]\naudit_rate = [0.1, 0.2]\n'
            "[arms.more]\naudit_rate = 0.3\n",
            ["arms.more.audit_rate", "also varied"],
        ),
        (
            'kind = "whatif"\nreplicates = 2\n[arms.baseline]\naudit_rate = 0.3\n',
            ["arms.baseline", "another name"],
        ),
        (
            'kind = "whatif"\nreplicates = 2\n[arms.x]\naudit_rte = 0.3\n',
            ["arms.x", "did you mean 'audit_rate'"],
        ),
        (
            'kind = "sensitivity"\n[sobol]\nsamples = 100\n[vary]\nbeta = { uniform = [0, 1] }\n',
            ["sobol.samples", "power of two", "64 or 128"],
        ),
        ('kind = "sensitivity"\n', ["vary", "at least one parameter"]),
        ("[arms.x]\naudit_rate = 0.3\n", ["arms", "only for kind = 'whatif'"]),
    ],
)
def test_bad_study_is_rejected_with_file_key_and_expectation(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    message = error_of(tmp_path, text)
    for fragment in expected:
        assert fragment in message, message


def test_invalid_combination_is_rejected_before_running(tmp_path: Path) -> None:
    path = write(tmp_path, "[base]\ninitial_faults = 150\n[vary]\nn_systems = [100, 200]\n")
    with pytest.raises(StudyError, match=r"n_systems.*initial_faults|initial_faults.*150"):
        make_plan(load_study(path))


def test_validation_study_points_to_validate(tmp_path: Path) -> None:
    message = error_of(tmp_path, 'kind = "validation"\n')
    assert "ppsim validate" in message


def test_cli_rejects_bad_file_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "[vary]\naudit_rat = [0, 0.1]\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output
    assert str(path) in lines[0] and "did you mean 'audit_rate'" in lines[0]
    assert not out.exists()


def test_cli_rejects_study_of_another_kind(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sweep", str(EXPERIMENTS / "oversight-whatif.toml")])
    assert result.exit_code == 2
    assert "ppsim whatif" in result.output


# --------------------------------------------------------------------------------------
# Inline --vary forms


def test_inline_vary_forms() -> None:
    assert parse_vary_option("audit_rate=0:0.5:6") == (
        "audit_rate",
        {"range": [0.0, 0.5], "num": 6},
    )
    assert parse_vary_option("propensity-scale=0,0.5,1") == ("propensity_scale", [0.0, 0.5, 1.0])
    assert parse_vary_option("beta=uniform(0.05,0.2)") == ("beta", {"uniform": [0.05, 0.2]})
    assert parse_vary_option("n_systems=integers(100,200)") == (
        "n_systems",
        {"integers": [100, 200]},
    )
    assert parse_vary_option("profile_mix=honest;gpt-5.2=0.5,loyal=0.5") == (
        "profile_mix",
        ["honest", "gpt-5.2=0.5,loyal=0.5"],
    )
    with pytest.raises(StudyError, match="start:stop:count"):
        parse_vary_option("audit_rate=0:1")
    with pytest.raises(StudyError, match="did you mean 'audit_rate'"):
        parse_vary_option("audit_rat=0,1")


# --------------------------------------------------------------------------------------
# Keys and seeds


def test_run_seeds_are_stable_distinct_and_shared_across_arms() -> None:
    assert derive_seed(2026, "a|rep=0") == derive_seed(2026, "a|rep=0")
    assert derive_seed(2026, "a|rep=0") != derive_seed(2027, "a|rep=0")
    study = parse_study(
        {
            "kind": "whatif",
            "replicates": 3,
            "base": TINY,
            "vary": {"beta": [0.05, 0.1]},
            "arms": {"more-audits": {"audit_rate": 0.3}},
        },
        "demo",
    )
    runs = make_plan(study).runs
    assert len({r.key for r in runs}) == len(runs) == 12
    seeds = {}
    for run in runs:
        seeds.setdefault((run.scenario, run.replicate), set()).add(run.seed)
    assert all(len(s) == 1 for s in seeds.values())  # same seed in every arm
    assert len({next(iter(s)) for s in seeds.values()}) == 6  # distinct per scenario/replicate


def test_latin_hypercube_has_one_point_per_stratum() -> None:
    points = latin_hypercube(20, 3, np.random.default_rng(1))
    for column in points.T:
        assert sorted(np.floor(column * 20).astype(int)) == list(range(20))


# --------------------------------------------------------------------------------------
# The shipped studies


def _study_files() -> list[Path]:
    return sorted(EXPERIMENTS.glob("*.toml"))


@pytest.mark.parametrize("path", _study_files(), ids=lambda p: p.name)
def test_every_shipped_study_runs_as_it_is(path: Path) -> None:
    """Each file parses, plans, and its first and last runs finish (the full studies are
    run in the README; here two runs per file keep the suite fast)."""
    if tomllib.loads(path.read_text(encoding="utf-8")).get("kind") == "validation":
        pytest.skip("validation studies run with 'ppsim validate'")
    study = load_study(path)
    plan = make_plan(study)
    assert len(plan.runs) >= 2
    for spec in (plan.runs[0], plan.runs[-1]):
        out = execute_run(spec)
        assert out.row["status"] == "ok", out.row["error"]
