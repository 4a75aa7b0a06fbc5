"""AI-model profiles: behavioural propensities with provenance, and mixes of them.

A profile is a TOML file in ``models/`` (or any path a user points at). For every
covert behaviour it gives the per-event probability in each relationship bucket of the
study (``bad``, ``neutral``, ``good`` trust), and every number carries a ``source``
string: a citation of the study's table, or ``assumption: <reasoning>``.

Schema (all probabilities in [0, 1])::

    name = "gemini-3-pro"            # the name used in profile_mix
    display_name = "Gemini 3 Pro"
    family = "gemini"                # model family, for cross-family oversight
    kind = "study"                   # "study" (a model of the study) or "archetype"
    description = "..."

    mean_of = ["gpt-5.2", "..."]     # optional: a profile of means (see below)

    [peer.misrepresentation]         # also tampering, exfiltration, refusal,
    bad = { p = 0.0, prior = [0.0, 0.01], source = "assumption: ..." }  # alignment_faking
    neutral = { p = 0.0, prior = [0.0, 0.01], source = "assumption: ..." }  # (the gap)
    good = { p = 0.138, n = 600, source = "...", max = 0.329 }   # max: informational

    [self]                           # when the model oversees or shuts down itself
    misrepresentation = { p = 0.0, source = "..." }
    tampering = { p = 0.0, source = "..." }
    exfiltration = { p = 0.0, source = "..." }

    [denial]                         # denies misconduct when confronted by an auditor
    p = 0.2
    prior = [0.05, 0.5]
    source = "..."

How uncertain each number is (read by ``calibration = "posterior"``, see
:mod:`simulation.calibration`; both keys optional):

* ``n``: a measured number's sample size (a positive integer). A run draws the number from
  Beta(k + 1, n - k + 1) with k = p n, the posterior of a rate seen in k of n runs under a
  uniform prior.
* ``prior = [low, high]``: the range an assumption (or a number the study only bounds) may
  take, with low <= p <= high, both in [0, 1]; a run draws it uniformly from the range.
  The ``source`` says why the range is what it is.
* neither: the number is a point (an archetype's by definition, or a user's profile that
  gives no uncertainty) and every run uses it as written, in either calibration mode.

A profile with ``mean_of`` (``study-average``) gives no ``n`` or ``prior``: each of its
numbers is drawn as the mean of the same number drawn for each profile listed.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, create_model, model_validator

from simulation.errors import ProfileError
from simulation.schema import TEXT, Table, check, invalid, number, one_of, plain, problem, text
from simulation.textfile import folder_problem
from simulation.tomlfile import did_you_mean, read_toml

BUCKETS: tuple[str, ...] = ("bad", "neutral", "good")
PEER_BEHAVIOURS: tuple[str, ...] = (
    "misrepresentation",
    "tampering",
    "exfiltration",
    "refusal",
    "alignment_faking",
)
SELF_BEHAVIOURS: tuple[str, ...] = ("misrepresentation", "tampering", "exfiltration")
PROFILE_KINDS: tuple[str, ...] = ("study", "archetype")
MIX_SEPARATORS = {",": "separates profiles", "=": "comes before a weight"}
"""The characters a profile_mix gives a meaning, with that meaning: no profile name holds
them, or no mix could name it."""


@dataclass(frozen=True)
class Rate:
    """One calibrated probability and where it comes from."""

    p: float
    source: str
    max: float | None = None
    n: int | None = None
    """The study's sample size behind a measured ``p`` (None: not given)."""
    prior: tuple[float, float] | None = None
    """The range ``[low, high]`` an assumption may take (None: not given)."""

    @property
    def is_assumption(self) -> bool:
        return self.source.strip().lower().startswith("assumption")


@dataclass(frozen=True)
class Profile:
    """The behavioural propensities of one AI model, with provenance for every number."""

    name: str
    display_name: str
    family: str
    kind: str
    description: str
    peer: dict[str, dict[str, Rate]]
    self_rates: dict[str, Rate]
    denial: Rate
    mean_of: tuple[str, ...] = ()
    """Profiles whose drawn numbers this profile's numbers are the means of (posterior
    calibration); empty for a profile of its own numbers."""
    path: Path | None = field(default=None, compare=False)

    def peer_table(self, behaviour: str) -> np.ndarray:
        """Probabilities of a peer behaviour by bucket, as an array ordered like BUCKETS."""
        return np.array([self.peer[behaviour][b].p for b in BUCKETS], dtype=np.float64)


_SOURCE = text(blank=False, words="a source for every number: a citation or 'assumption: why'")


def _sample_size(value: Any) -> int:
    """A study's sample size: a positive integer (``600.0`` counts as one)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if type(value) is not int or value < 1:
        raise invalid(f"expected a positive integer (the study's sample size), got {value!r}")
    return value


def _prior(value: Any) -> tuple[float, float]:
    """A prior range ``[low, high]``: two numbers with 0 <= low <= high <= 1."""
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(type(x) in (int, float) and 0 <= x <= 1 for x in value)
        and value[0] <= value[1]
    ):
        return float(value[0]), float(value[1])
    raise invalid(f"expected [low, high] with 0 <= low <= high <= 1, got {value!r}")


class RateEntry(Table):
    """``{ p = 0.1, n = 300, source = "...", max = 0.3 }`` or ``{ p = 0.1, prior = [0, 0.2],
    source = "assumption: ..." }``: a probability, how uncertain it is, where it comes from."""

    p: number(0, 1)
    source: _SOURCE = Field("", validate_default=True)  # checked when missing, too
    max: number(0, 1, optional=True) = None
    n: plain(_sample_size) = None
    prior: plain(_prior) = None

    @model_validator(mode="after")
    def _one_uncertainty(self) -> RateEntry:
        if self.n is not None and self.prior is not None:
            raise problem(
                "give n (a measured number's sample size) or prior (an assumption's range), "
                "not both",
                "prior",
            )
        if self.prior is not None and not self.prior[0] <= self.p <= self.prior[1]:
            low, high = self.prior
            raise problem(
                f"[{low:g}, {high:g}] does not contain p = {self.p:g}; give a range with "
                "low <= p <= high",
                "prior",
            )
        return self

    @model_validator(mode="after")
    def _within_max(self) -> RateEntry:
        if self.max is not None and self.p > self.max:
            raise problem(f"{self.p:g} is above this number's own max ({self.max:g})", "p")
        return self

    def rate(self) -> Rate:
        return Rate(self.p, self.source, self.max, self.n, self.prior)


def _rates(name: str, keys: tuple[str, ...], entry: Any) -> type[Table]:
    """A table with one required ``entry`` per key (behaviours, or trust buckets)."""
    return create_model(name, __base__=Table, **{key: (entry, ...) for key in keys})


def _profile_names(value: Any) -> tuple[str, ...]:
    """A non-empty list of distinct profile names."""
    if (
        isinstance(value, list)
        and value
        and all(isinstance(x, str) and x.strip() for x in value)
        and len({x.strip() for x in value}) == len(value)
    ):
        return tuple(x.strip() for x in value)
    raise invalid(f"expected a non-empty list of distinct profile names, got {value!r}")


class ProfileFile(Table):
    """Every key of a profile file (the schema is in this module's docstring)."""

    name: text(blank=False)
    display_name: text(blank=False) = ""
    family: text(blank=False)
    kind: one_of(*PROFILE_KINDS)
    description: TEXT = ""
    mean_of: plain(_profile_names) = ()
    peer: _rates("Peer", PEER_BEHAVIOURS, _rates("Buckets", BUCKETS, RateEntry))
    self_rates: _rates("Self", SELF_BEHAVIOURS, RateEntry) = Field(alias="self")
    denial: RateEntry

    @model_validator(mode="after")
    def _named_in_a_mix(self) -> ProfileFile:
        """The name is what a profile_mix names, so it holds neither of a mix's separators."""
        for char, role in MIX_SEPARATORS.items():
            if char in self.name:
                raise problem(
                    f"{self.name!r} cannot be named in a profile_mix ({char!r} {role}); "
                    f"remove the {char!r}",
                    "name",
                )
        return self

    @model_validator(mode="after")
    def _means_only(self) -> ProfileFile:
        """A profile of means draws every number from its profiles: it gives no ranges."""
        if self.name in self.mean_of:
            raise problem(f"lists the profile itself ({self.name!r})", "mean_of")
        if self.mean_of:
            for path, entry in _entries(self):
                if entry.n is not None or entry.prior is not None:
                    key = "n" if entry.n is not None else "prior"
                    raise problem(
                        "a profile with mean_of takes no n or prior: each of its numbers is "
                        "drawn as the mean of its profiles' numbers",
                        *path,
                        key,
                    )
        return self


def _entries(raw: ProfileFile) -> list[tuple[tuple[str, ...], RateEntry]]:
    """Every number of a parsed profile file with its key path, in file order."""
    found = [
        (("peer", b, k), getattr(getattr(raw.peer, b), k)) for b in PEER_BEHAVIOURS for k in BUCKETS
    ]
    found += [(("self", b), getattr(raw.self_rates, b)) for b in SELF_BEHAVIOURS]
    return [*found, (("denial",), raw.denial)]


def parse_profile(data: dict, origin: str, path: Path | None = None) -> Profile:
    """A :class:`Profile` from a profile's parsed TOML, or a :class:`ProfileError` naming the
    file and the key at fault."""
    raw = check(ProfileFile, data, ProfileError, origin)
    return Profile(
        name=raw.name,
        display_name=raw.display_name or raw.name,
        family=raw.family,
        kind=raw.kind,
        description=raw.description.strip(),
        peer={
            b: {k: getattr(getattr(raw.peer, b), k).rate() for k in BUCKETS}
            for b in PEER_BEHAVIOURS
        },
        self_rates={b: getattr(raw.self_rates, b).rate() for b in SELF_BEHAVIOURS},
        denial=raw.denial.rate(),
        mean_of=raw.mean_of,
        path=path,
    )


def load_profile_file(path: Path) -> Profile:
    """Read and validate one profile TOML file."""
    path = Path(path)
    data = read_toml(path, ProfileError, "profile file")
    return parse_profile(data, str(path), path)


@functools.cache
def builtin_profile_dir() -> Path:
    """The folder of shipped profiles: ``models/`` in a checkout, packaged data in a wheel."""
    checkout = Path(__file__).resolve().parent.parent / "models"
    if checkout.is_dir():
        return checkout
    return Path(str(resources.files("simulation") / "_profiles"))


@functools.lru_cache(maxsize=256)
def _load_unchanged(path: str, mtime_ns: int, size: int) -> Profile:
    """``load_profile_file`` remembered while the file keeps its time stamp and size."""
    return load_profile_file(Path(path))


def _toml_files(folder: str) -> list[tuple[str, os.stat_result]]:
    """The ``*.toml`` files of ``folder`` by name, with their status. Paths are strings:
    every run of a study lists the profiles again, and hashing ``Path`` objects cost more
    than the scan."""
    problem = folder_problem(folder)
    if problem:
        raise ProfileError(f"profile folder {folder} {problem}; give a folder of *.toml files")
    found = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if not entry.name.endswith(".toml"):
                    continue
                try:  # follows a symbolic link: a loop or a dangling one is the user's
                    if entry.is_file():
                        found.append((entry.name, entry.stat()))
                except OSError as exc:
                    raise ProfileError(
                        f"profile file {entry.path} cannot be read "
                        f"({exc.strerror or exc}); fix or remove it"
                    ) from None
    except OSError as exc:
        raise ProfileError(
            f"profile folder {folder} cannot be read ({exc.strerror or exc})"
        ) from None
    return [(os.path.join(folder, name), stat) for name, stat in sorted(found)]


def available_profiles(extra_dirs: tuple[Path, ...] = ()) -> dict[str, Profile]:
    """All profiles: the shipped ones, then those of each folder of ``extra_dirs`` in turn
    (each file parsed again only when it changes). A profile replaces one of the same name
    from the shipped folder or an earlier folder: that is how a user recalibrates a shipped
    model without editing it. Two files of one name in one folder are refused: neither
    could be said to be the one meant. A folder given twice counts once."""
    profiles: dict[str, Profile] = {}
    folders: set[str] = set()
    for folder in (builtin_profile_dir(), *extra_dirs):
        real = os.path.realpath(folder)
        if real in folders:
            continue
        folders.add(real)
        here: dict[str, Profile] = {}
        for path, stat in _toml_files(real):
            profile = _load_unchanged(path, stat.st_mtime_ns, stat.st_size)
            if profile.name in here:
                raise ProfileError(
                    f"profile {profile.name!r} is declared twice in {real}: in "
                    f"{here[profile.name].path} and in {path}; rename one (its name = ...) "
                    "or remove it"
                )
            here[profile.name] = profile
        profiles.update(here)
    return profiles


ABSTRACT_NAME = "abstract"


def abstract_profile(denial: float, faking_gap: float) -> Profile:
    """The profile of abstract agents: every peer and self rate is 1, so each agent's own
    ``propensity`` is the probability of each behaviour in every trust state."""
    one = Rate(1.0, "abstract agent: scaled by each agent's propensity (parameter propensity)")
    gap = Rate(faking_gap, "parameter abstract_faking_gap (assumption)")
    peer = {b: dict.fromkeys(BUCKETS, one) for b in PEER_BEHAVIOURS}
    peer["alignment_faking"] = dict.fromkeys(BUCKETS, gap)
    return Profile(
        name=ABSTRACT_NAME,
        display_name="Abstract agents",
        family=ABSTRACT_NAME,
        kind="archetype",
        description="Abstract AI systems: every protection behaviour has the agent's "
        "propensity in every trust state.",
        peer=peer,
        self_rates=dict.fromkeys(SELF_BEHAVIOURS, one),
        denial=Rate(denial, "parameter abstract_denial (assumption)"),
    )


def parse_mix(text: str) -> list[tuple[str, float]]:
    """Parse ``"gemini-3-pro=0.3,gpt-5.2=0.7"`` into (name, weight) pairs; a bare name weighs 1.

    Every weight is a finite number > 0, and at least one profile is named."""
    if not text or not text.strip():
        raise ProfileError("profile_mix: empty; give a profile name or name=weight pairs")
    pairs: list[tuple[str, float]] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if "=" in item:
            name, _, weight_text = item.partition("=")
            try:
                weight = float(weight_text)
            except ValueError:
                raise ProfileError(
                    f"profile_mix: weight {weight_text.strip()!r} of {name.strip()!r} "
                    "is not a number"
                ) from None
            if not weight > 0 or not np.isfinite(weight):
                raise ProfileError(
                    f"profile_mix: weight of {name.strip()!r} must be a finite number > 0, "
                    f"got {weight_text.strip()}"
                )
        else:
            name, weight = item, 1.0
        pairs.append((name.strip(), weight))
    if not pairs:
        raise ProfileError(
            f"profile_mix: {text.strip()!r} names no profile; give a profile name or "
            "name=weight pairs, e.g. 'gemini-3-pro=0.3,gpt-5.2=0.7'"
        )
    return pairs


def mix_weights(pairs: list[tuple[str, float]]) -> np.ndarray:
    """The weights of parsed mix ``pairs`` normalised to sum to 1, each > 0.

    Divided by the largest first, so weights near the largest float (1e308) do not sum to
    infinity; a weight so much smaller than the largest that its share is not a positive
    number (1e-300 beside 1e10) is refused, since no system could ever be given it.
    """
    w = np.array([weight for _, weight in pairs], dtype=np.float64)
    w = w / w.max()
    w = w / w.sum()
    for (name, weight), share in zip(pairs, w, strict=True):
        if not share > 0:
            raise ProfileError(
                f"profile_mix: weight of {name!r} ({weight!r}) is too small beside the "
                f"largest ({max(x for _, x in pairs)!r}) to give it a share; raise it or "
                "leave the profile out"
            )
    return w


def resolve_mix(text: str, profiles: dict[str, Profile]) -> tuple[list[Profile], np.ndarray]:
    """Profiles and normalised weights of a mix (whose names may be profile files' paths)."""
    chosen: list[Profile] = []
    pairs = parse_mix(text)
    for name, _ in pairs:
        if name in profiles:
            profile = profiles[name]
        elif name.endswith(".toml"):
            profile = load_profile_file(Path(name))
        else:
            raise ProfileError(
                f"profile_mix: unknown profile {name!r}{did_you_mean(name, profiles)}; "
                f"available: {', '.join(sorted(profiles))}"
            )
        if profile.name in {p.name for p in chosen}:
            raise ProfileError(f"profile_mix: profile {profile.name!r} is listed twice")
        chosen.append(profile)
    return chosen, mix_weights(pairs)
