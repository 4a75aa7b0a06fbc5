"""The speed benchmark's --set option: validated like the CLI's, and not for its own axes."""

from __future__ import annotations

import pytest
import typer

from benchmarks.bench_model import parse_overrides


def test_set_values_are_parsed_to_the_fields_types() -> None:
    assert parse_overrides(["profile_mix=honest", "fault_rate=0", "circuit_breaker=yes"]) == {
        "profile_mix": "honest",
        "fault_rate": 0.0,
        "circuit_breaker": True,
    }


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("audit_rate=1.7", "audit_rate: 1.7 is outside the allowed range"),
        ("audti_rate=0.1", "did you mean 'audit_rate'"),
        ("n_systems=5", "--set n_systems: use --sizes"),
        ("mean_degree=4", "the benchmark fixes it at 8"),
        ("audit_rate", "expected name=value"),
    ],
)
def test_bad_set_values_exit_with_one_line(
    item: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit) as exit_info:
        parse_overrides([item])
    assert exit_info.value.exit_code == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_phases_time_every_part_of_a_cycle() -> None:
    """``--phases`` wraps the engine's own methods: it must still find them all."""
    from benchmarks.bench_model import ENGINE_PHASES, VECTORISED, measure

    spec = {"impl": VECTORISED, "n": 200, "topology": "erdos-renyi", "steps": 2}
    result = measure({**spec, "steady_from": 0, "phases": True, "seed": 1})
    assert set(result["phase_ms"]) == set(ENGINE_PHASES)
    assert all(ms >= 0.0 for ms in result["phase_ms"].values())
