"""No installed dependency of ppsim (the packages ``ppsim`` needs to run, followed through
their own requirements; not the development tools) is under a GPL-family licence, and
every one declares a licence."""

from __future__ import annotations

import re
from importlib import metadata

from packaging.requirements import Requirement


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_closure() -> dict[str, metadata.Distribution]:
    """Every installed distribution ppsim needs at run time, by normalised name."""
    found: dict[str, metadata.Distribution] = {}
    pending: list[tuple[str, tuple[str, ...]]] = [("ppsim", ())]
    while pending:
        name, extras = pending.pop()
        if _key(name) in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional requirement for another platform
        found[_key(name)] = dist
        for text in dist.requires or []:
            requirement = Requirement(text)
            marker = requirement.marker
            wanted = ("",) + extras
            if marker is None or any(marker.evaluate({"extra": e}) for e in wanted):
                pending.append((requirement.name, tuple(requirement.extras)))
    return found


def licence_text(dist: metadata.Distribution) -> str:
    fields = dist.metadata
    classifiers = [c for c in fields.get_all("Classifier") or [] if c.startswith("License")]
    parts = [fields.get("License-Expression") or "", fields.get("License") or "", *classifiers]
    return " ".join(part[:200] for part in parts).strip()


def test_no_gpl_family_licence_among_runtime_dependencies():
    closure = runtime_closure()
    assert {"mesa", "numpy", "optuna", "numba"} <= closure.keys()
    gpl = {name: licence_text(d) for name, d in closure.items() if "GPL" in licence_text(d)}
    assert not gpl, gpl
    undeclared = [name for name, d in closure.items() if not licence_text(d)]
    assert not undeclared, undeclared
