"""Configuration: defaults, validation with field names and ranges, parsing from text."""

from __future__ import annotations

import pytest

from simulation.config import ConfigError, SimulationConfig, parse_assignment, parse_value


def test_defaults_are_the_documented_main_job():
    cfg = SimulationConfig()
    assert (cfg.n_systems, cfg.topology, cfg.profile_mix, cfg.steps) == (
        1000,
        "agent-platform",
        "study-average",
        200,
    )


@pytest.mark.parametrize(
    "field, value, message",
    [
        (
            "audit_rate",
            1.7,
            r"audit_rate: 1.7 is outside the allowed range; use a number in \[0, 1\]",
        ),
        ("n_systems", 1, r"n_systems: .*integer in \[2,"),
        ("n_systems", 10.5, "n_systems: expected an integer"),
        ("topology", "erdos_renyi", "did you mean 'erdos-renyi'"),
        ("contagion", "sir", "one of independent-cascade, threshold"),
        ("human_execution", "yes", "human_execution: expected true or false"),
        ("beta", float("nan"), "beta: expected a number"),
        ("steps", True, "steps: expected an integer"),
    ],
)
def test_invalid_values_name_the_field_and_the_allowed_values(field, value, message):
    with pytest.raises(ConfigError, match=message):
        SimulationConfig(**{field: value})


def test_unknown_names_suggest_the_closest():
    with pytest.raises(ConfigError, match="unknown parameter 'audit_rat' .*'audit_rate'"):
        SimulationConfig.from_mapping({"audit_rat": 0.1})
    with pytest.raises(ConfigError, match="study.toml: unknown parameter"):
        SimulationConfig.from_mapping({"zzz": 1}, origin="study.toml")


def test_file_topology_needs_a_path():
    with pytest.raises(ConfigError, match="graph_file: required"):
        SimulationConfig(topology="file")


def test_parse_from_text():
    assert parse_value("n_systems", "500") == 500
    assert parse_value("audit_rate", "0.25") == 0.25
    assert parse_value("circuit_breaker", "true") is True
    assert parse_assignment("propensity-scale=2") == ("propensity_scale", 2.0)
    with pytest.raises(ConfigError, match="expected name=value"):
        parse_assignment("audit_rate")
    with pytest.raises(ConfigError, match="n_systems: expected an integer"):
        parse_value("n_systems", "many")


def test_replace_validates():
    cfg = SimulationConfig().replace(audit_rate=0.3)
    assert cfg.audit_rate == 0.3
    with pytest.raises(ConfigError):
        cfg.replace(audit_rate=-0.1)


def test_an_unknown_keyword_is_a_config_error_not_a_crash():
    with pytest.raises(ConfigError, match=r"unknown parameter 'audt' \(did you mean 'audit_rate'"):
        SimulationConfig(audt=0.1)


def test_config_fields_carry_the_declared_range_choices_and_words():
    from simulation.config import allowed_text, config_fields, field_type, is_optional

    by_name = {f.name: f for f in config_fields()}
    assert allowed_text(by_name["n_systems"]) == "an integer in [2, 5e+07]"
    assert allowed_text(by_name["propensity"]) == "a number in [0, 1], or unset"
    assert allowed_text(by_name["contagion"]) == "one of independent-cascade, threshold"
    assert (field_type(by_name["steps"]), is_optional(by_name["propensity"])) == ("int", True)
    assert (by_name["audit_rate"].unit, by_name["audit_rate"].group) == ("probability", "policy")
