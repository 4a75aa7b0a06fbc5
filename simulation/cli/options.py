"""Shared command-line plumbing: one option per configuration field, ``--set``, ``--config``
(each overriding the one before, defaults first), and the one-line error handling."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from simulation import interrupts
from simulation.config import (
    ConfigError,
    Param,
    SimulationConfig,
    allowed_text,
    config_fields,
    field_type,
    parse_assignment,
    unknown_name_message,
)
from simulation.errors import PpsimError
from simulation.tomlfile import did_you_mean, read_toml

_GROUP_PANELS = {
    "network": "Network",
    "population": "Population",
    "faults": "Faults and contagion",
    "evaluation": "Evaluation",
    "policy": "Oversight policy",
    "lifecycle": "Lifecycle and trust",
    "effort": "Human effort",
}
_PY_TYPES = {"int": int, "float": float, "str": str, "bool": bool}


def fail(message: str, code: int = 2) -> None:
    """Print one clear error line to stderr and exit non-zero."""
    typer.secho(f"Error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a user's input error (a :class:`PpsimError`) into one line and exit code 2, and
    an interruption (Ctrl-C, ``SIGTERM``) into one line and exit code 130 or 143; any other
    exception is a bug and passes through to :func:`simulation.cli.main`."""
    try:
        yield
    except PpsimError as exc:
        fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, exc.exit_code)
    except KeyboardInterrupt as exc:
        interrupts.stop_command(exc)
    except Exception as exc:
        # Ctrl-C inside the compiled engine can surface as another exception (SystemError)
        if interrupts.is_interruption(exc):
            interrupts.stop_command(exc)
        raise


def read_config_file(path: Path) -> tuple[dict[str, Any], int | None]:
    """Parameters (and an optional ``seed``) from a TOML file: top level, or the [base] table
    of a study file (validated as one)."""
    data = read_toml(path, ConfigError, "--config: file")
    seed = data.get("seed")
    if "base" in data or "kind" in data:
        from simulation.experiments.study_file import parse_study  # loads NumPy: only here

        parse_study({"name": path.stem, **data}, str(path))
        params = dict(data.get("base") or {})
    else:
        names = tuple(f.name for f in config_fields())
        for name in data:
            if name not in ("seed", *names):
                message = unknown_name_message(name, str(path))
                if isinstance(data[name], dict):
                    message = (
                        f"{path}: unknown table [{name}]{did_you_mean(name, ('base',))}; "
                        "parameters go at the top level or in a [base] table"
                    )
                raise ConfigError(message)
        params = {k: v for k, v in data.items() if k != "seed"}
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ConfigError(f"{path}: seed must be a non-negative integer, got {seed!r}")
    return params, seed


def build_config(
    file: Path | None, named: dict[str, Any], assignments: list[str] | None
) -> tuple[SimulationConfig, int | None]:
    """Merge defaults, file, named options and --set pairs into a validated config."""
    values: dict[str, Any] = {}
    seed = None
    if file is not None:
        values, seed = read_config_file(file)
    values.update({k: v for k, v in named.items() if v is not None})
    set_names: set[str] = set()
    for name, value in (parse_assignment(item) for item in assignments or []):
        if name in set_names:
            raise ConfigError(f"--set {name}: given twice; give it once")
        set_names.add(name)
        values[name] = value
    config = SimulationConfig.from_mapping(values)
    if config.topology == "file" and "n_systems" in values:
        raise ConfigError(
            "n_systems: not used with topology = 'file' (the graph file's nodes are the "
            "systems); leave it out"
        )
    if config.topology != "file" and values.get("graph_file"):
        raise ConfigError(
            f"graph_file: only read with topology = 'file', not {config.topology!r}; set "
            "topology = 'file' (--topology file), or leave graph_file out"
        )
    if config.propensity is not None and "profile_mix" in values:
        raise ConfigError(
            "profile_mix: not used when propensity is set (abstract agents stand in for the "
            "profiles); leave one of them out"
        )
    for name in ("abstract_denial", "abstract_faking_gap"):
        if config.propensity is None and name in values:
            raise ConfigError(
                f"{name}: only used by abstract agents, with propensity set; set propensity, "
                f"or leave {name} out"
            )
    return config, seed


def _keyword(name: str, option: Any, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation
    )


def _option_for(f: Param) -> inspect.Parameter:
    kind = field_type(f)
    unit = f" ({f.unit})" if f.unit else ""
    flag = "--" + f.name.replace("_", "-")
    decl = f"{flag}/--no-{f.name.replace('_', '-')}" if kind == "bool" else flag
    help_text = f"{f.help}{unit}; {allowed_text(f)}; default {f.default!r}"
    panel = _GROUP_PANELS[f.group]
    option = typer.Option(None, decl, help=help_text, rich_help_panel=panel, show_default=False)
    return _keyword(f.name, option, _PY_TYPES[kind] | None)


def config_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give a Typer command one option per config field plus ``--set`` and ``--config``; it
    receives ``config: SimulationConfig`` and ``config_seed: int | None`` (the file's seed)."""
    names = [f.name for f in config_fields()]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        named = {name: kwargs.pop(name) for name in names}
        assignments = kwargs.pop("set_values")
        file = kwargs.pop("config_file")
        with user_errors():
            config, seed = build_config(file, named, assignments)
        return func(*args, config=config, config_seed=seed, **kwargs)

    own = inspect.signature(func).parameters.values()
    config_file = typer.Option(
        None,
        "--config",
        help="TOML file of parameters (top level or a [base] table)",
    )
    set_values = typer.Option(
        None,
        "--set",
        help="set any parameter: --set name=value (repeatable)",
        metavar="NAME=VALUE",
    )
    wrapper.__signature__ = inspect.Signature(
        [
            *(p for p in own if p.name not in ("config", "config_seed")),
            _keyword("config_file", config_file, Path | None),
            _keyword("set_values", set_values, list[str] | None),
            *(_option_for(f) for f in config_fields()),
        ]
    )
    return wrapper


def is_interactive() -> bool:
    return sys.stderr.isatty()
