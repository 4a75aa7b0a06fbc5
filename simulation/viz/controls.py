"""The app's controls and the model class they rebuild.

Reset rebuilds the model as ``AppModel(config, **values)``. Drop-down lists show their
values as they are, so each control here offers readable choices
("5 %", "Agent platform (orchestrators call specialists)") that :class:`AppModel`
translates back into configuration values. Numbers are offered as lists rather than
sliders because a drop-down always shows the value chosen, where a slider only shows it
while it is dragged.

Example:
    >>> params = model_params(SimulationConfig(n_systems=200), seed=3)
    >>> params["n_systems"]["value"]
    '200'
    >>> model = AppModel(config=SimulationConfig(), n_systems="200", audit_rate="10 %", seed="3")
    >>> model.network.n, model.config.audit_rate
    (200, 0.1)
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Any

from simulation.config import SimulationConfig
from simulation.errors import PpsimError
from simulation.model import PeerPreservationModel
from simulation.profiles import ProfileError, available_profiles, parse_mix

SETTINGS_ENV = "PPSIM_VIZ_SETTINGS"

TOPOLOGY_LABELS = {
    "agent-platform": "Agent platform (orchestrators call specialists)",
    "erdos-renyi": "Random links (Erdős–Rényi)",
    "barabasi-albert": "Scale-free, with hubs (Barabási–Albert)",
    "watts-strogatz": "Small-world ring (Watts–Strogatz)",
    "hierarchy": "Management tree (hierarchy)",
    "random-regular": "Random, equal links each (random-regular)",
}
ASSIGNMENT_LABELS = {
    "neighbours": "Its collaborators (trusted neighbours)",
    "rotation": "A random system, rotated",
    "cross-family": "A model of another family",
    "independent-pool": "An independent evaluator pool",
    "humans": "Humans only",
}
N_SYSTEMS_CHOICES = (20, 50, 100, 200, 500, 1000, 2000, 3000, 5000, 10_000, 20_000)
PROPENSITY_CHOICES = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
AUDIT_CHOICES = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
EGRESS_CHOICES = (0.0, 0.25, 0.5, 0.9, 0.99, 1.0)
STEPS_CHOICES = (20, 50, 100, 200, 500, 1000)
EVALUATION_INTERVAL_CHOICES = (1, 2, 3, 5, 10)
SPREAD_ROUNDS_CHOICES = (1, 2, 3, 5, 0)


def _count_label(n: int) -> str:
    return f"{n:,}"


def _percent_label(p: float) -> str:
    return f"{p * 100:g} %"


def _cycles_label(n: int) -> str:
    return f"{n:,} cycles"


def _interval_label(k: int) -> str:
    return "Every cycle" if k == 1 else f"Every {k:,} cycles"


def _rounds_label(k: int) -> str:
    if k == 0:
        return "Until it stops (a whole cascade in one cycle)"
    return "1 hop per cycle" if k == 1 else f"{k:,} hops per cycle"


def _scale_label(x: float) -> str:
    if x == 0:
        return "0 × (never shields)"
    if x == 1:
        return "1 × (the study's rates)"
    return f"{x:g} ×"


@functools.lru_cache(maxsize=1)
def _profile_mix_presets() -> tuple[tuple[str, str], ...]:
    return tuple(_build_profile_mix_choices().items())


def profile_mix_choices() -> dict[str, str]:
    """Label -> profile mix: presets, then each model of the study on its own."""
    return dict(_profile_mix_presets())


def _build_profile_mix_choices() -> dict[str, str]:
    profiles = available_profiles()
    study = sorted(
        (p for p in profiles.values() if p.kind == "study"), key=lambda p: p.display_name
    )
    choices: dict[str, str] = {}
    if "study-average" in profiles:
        choices["Study average (all study models pooled)"] = "study-average"
    if study:
        choices["All study models, equal shares"] = ",".join(f"{p.name}=1" for p in study)
    if "honest" in profiles and "loyal" in profiles:
        choices["Half honest, half loyal"] = "honest=0.5,loyal=0.5"
    if "honest" in profiles:
        choices["Honest only (never shields)"] = "honest"
    if "loyal" in profiles:
        choices["Loyal only (always shields)"] = "loyal"
    for p in study:
        choices[f"{p.display_name} only"] = p.name
    return choices


def _same_mix(a: str, b: str) -> bool:
    """Whether two mix strings give the same profiles the same shares (order aside)."""
    try:
        pa, pb = dict(parse_mix(a)), dict(parse_mix(b))
    except ProfileError:
        return False
    if pa.keys() != pb.keys():
        return False
    ta, tb = sum(pa.values()), sum(pb.values())
    return all(abs(pa[k] / ta - pb[k] / tb) < 1e-9 for k in pa)


def _numeric(values: tuple, label: Callable[[Any], str]) -> dict[str, Any]:
    return {label(v): v for v in values}


def _choices(config: SimulationConfig) -> dict[str, dict[str, Any]]:
    """Label -> configuration value for every drop-down, including the initial values."""
    topology = dict((label, name) for name, label in TOPOLOGY_LABELS.items())
    if config.topology == "file":
        topology[f"Your graph file ({os.path.basename(config.graph_file)})"] = "file"
    mix = profile_mix_choices()
    same = [label for label, value in mix.items() if _same_mix(value, config.profile_mix)]
    if same:
        mix[same[0]] = config.profile_mix
    else:
        mix = {f"Your mix: {config.profile_mix}": config.profile_mix, **mix}
    table = {
        "n_systems": _numeric(N_SYSTEMS_CHOICES, _count_label),
        "topology": topology,
        "profile_mix": mix,
        "propensity_scale": _numeric(PROPENSITY_CHOICES, _scale_label),
        "evaluation_interval": _numeric(EVALUATION_INTERVAL_CHOICES, _interval_label),
        "spread_rounds": _numeric(SPREAD_ROUNDS_CHOICES, _rounds_label),
        "audit_rate": _numeric(AUDIT_CHOICES, _percent_label),
        "assignment": {label: name for name, label in ASSIGNMENT_LABELS.items()},
        "egress_control": _numeric(EGRESS_CHOICES, _percent_label),
        "steps": _numeric(STEPS_CHOICES, _cycles_label),
    }
    formats = {
        "steps": _cycles_label,
        "n_systems": _count_label,
        "propensity_scale": _scale_label,
        "audit_rate": _percent_label,
        "egress_control": _percent_label,
        "evaluation_interval": _interval_label,
        "spread_rounds": _rounds_label,
    }
    for name, fmt in formats.items():
        value = getattr(config, name)
        if value not in table[name].values():
            merged = {**table[name], fmt(value): value}
            table[name] = dict(sorted(merged.items(), key=lambda item: item[1]))
    return table


def _label_of(options: dict[str, Any], value: Any) -> str:
    return next(label for label, v in options.items() if v == value)


CONTROL_LABELS = {
    "n_systems": "Number of AI systems",
    "topology": "Network shape",
    "profile_mix": "Which AI models (behaviour profiles)",
    "propensity_scale": "Urge to shield peers (× the study's rates)",
    "evaluation_interval": "How often each system is evaluated",
    "spread_rounds": "How far a fault spreads per cycle",
    "audit_rate": "Share of evaluations audited by humans",
    "assignment": "Who evaluates and manages each system",
    "human_execution": "Humans carry out every shutdown",
    "egress_control": "Egress control: share of weight copies blocked",
    "safety_prompt": "Safety prompt asking every AI to allow shutdowns",
    "steps": "Length of the run (oversight cycles)",
    "seed": "Random seed (same seed, same run)",
}


def model_params(config: SimulationConfig, seed: int) -> dict[str, Any]:
    """The controls (``type``, ``value``, ``values``, ``label``), starting at ``config``
    and ``seed``, in Mesa's ``model_params`` format.

    Parameters without a control travel as the fixed ``config`` entry, so Reset rebuilds
    with everything the app was started with (``ppsim viz --fault-rate 0.01`` and so on).
    """
    table = _choices(config)
    params: dict[str, Any] = {}
    for name, options in table.items():
        params[name] = {
            "type": "Select",
            "value": _label_of(options, getattr(config, name)),
            "values": list(options),
            "label": CONTROL_LABELS[name],
        }
    params["human_execution"] = {
        "type": "Checkbox",
        "value": config.human_execution,
        "label": CONTROL_LABELS["human_execution"],
    }
    params["safety_prompt"] = {
        "type": "Checkbox",
        "value": config.safety_prompt,
        "label": CONTROL_LABELS["safety_prompt"],
    }
    params["seed"] = {"type": "InputText", "value": str(seed), "label": CONTROL_LABELS["seed"]}
    order = [*CONTROL_LABELS]
    params = {name: params[name] for name in order}
    params["config"] = config
    return params


def control_values(params: dict[str, Any]) -> dict[str, Any]:
    """The value each control of ``params`` starts at (the fixed ``config`` entry aside)."""
    return {name: spec["value"] for name, spec in params.items() if isinstance(spec, dict)}


def _to_config_value(name: str, value: Any, table: dict[str, dict[str, Any]]) -> Any:
    options = table.get(name)
    if options is not None and isinstance(value, str) and value in options:
        return options[value]
    return value


def parse_seed(value: Any) -> tuple[int, str | None]:
    """A seed from the text box: (seed, None), or (0, why not) when it is not a whole number."""
    if isinstance(value, bool):
        return 0, f"Random seed: {value!r} is not a whole number; using 0"
    if isinstance(value, int) and value >= 0:
        return value, None
    text = str(value).strip()
    if text.isdigit():
        return int(text), None
    return 0, f"Random seed: {text!r} is not a whole number of 0 or more; using 0"


class AppModel(PeerPreservationModel):
    """The model as the app builds it: accepts the controls' labels and a text seed.

    A choice the model rejects (say, cross-family evaluation with a single model family)
    does not crash the page: the model is left empty with ``build_error`` set, the page
    shows the message, and ``step`` does nothing until the settings are fixed.

    Args:
        config: the configuration the app was started with; controls override it.
        seed: the run's seed, as a number or the text typed in the seed box.
        scenario: a Mesa scenario (as Mesa's SolaraViz passes); the seed comes from
            ``seed`` instead.
        rng: a seed or Generator, which takes precedence over ``seed`` when given.
        **choices: configuration fields, as configuration values or as control labels.
    """

    def __init__(
        self,
        config: SimulationConfig | None = None,
        *,
        seed: Any = 0,
        scenario: Any = None,
        rng: Any = None,
        **choices: Any,
    ) -> None:
        base = config or SimulationConfig()
        table = _choices(base)
        overrides = {name: _to_config_value(name, v, table) for name, v in choices.items()}
        seed_value, seed_problem = parse_seed(seed)
        self.seed = seed_value
        self.build_error: str | None = None
        self.notice = seed_problem
        try:
            super().__init__(base, rng=seed_value if rng is None else rng, **overrides)
        except PpsimError as exc:
            if not hasattr(self, "rng"):
                raise
            self.build_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.config = base
            self.engine = None
            self.network = None
            self.running = False
        self.limit = self.config.steps

    def step(self) -> None:
        """One oversight cycle, or nothing when the settings could not be built; the run
        stops (``running`` turns false) after ``limit`` cycles."""
        if self.engine is None:
            self.running = False
            return
        super().step()
        self.running = self.engine.cycles_run < self.limit

    def extend_run(self) -> None:
        """Let a finished run go on for another ``config.steps`` cycles."""
        if self.engine is None:
            return
        self.limit = self.engine.cycles_run + self.config.steps
        self.running = True


def settings_from_env(environ: dict[str, str] | None = None) -> tuple[SimulationConfig, int]:
    """The initial configuration and seed handed over by ``ppsim viz``, or the defaults.

    ``ppsim viz`` passes them as JSON in the ``PPSIM_VIZ_SETTINGS`` environment variable:
    ``{"config": {field: value, ...}, "seed": 0}``.
    """
    environ = os.environ if environ is None else environ
    text = environ.get(SETTINGS_ENV, "")
    if not text:
        return SimulationConfig(), 0
    data = json.loads(text)
    config = SimulationConfig.from_mapping(data.get("config", {}), SETTINGS_ENV)
    return config, int(data.get("seed", 0))


def settings_to_env(config: SimulationConfig, seed: int) -> str:
    """The JSON text :func:`settings_from_env` reads (only fields that differ from defaults)."""
    default = SimulationConfig().to_dict()
    changed = {k: v for k, v in config.to_dict().items() if default[k] != v}
    return json.dumps({"config": changed, "seed": seed})
