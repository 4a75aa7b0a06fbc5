"""The files a study's runs read, and the SHA-256 of their contents.

A study names some of its inputs by path or by name: graph files (``graph_file``, in the
base, a varied level or an arm) and the profiles of every profile mix (a shipped profile
by name, or a profile file by path). Their contents decide the rows as much as the study
does, so a results folder records them (``inputs.json``) and a resume checks them: a
study whose input changed since its first runs is refused, naming the file, rather than
mixing rows of both versions in one folder (see :class:`~.store.StudyStore`).

Example:
    >>> from simulation.experiments.study_file import parse_study
    >>> study = parse_study({"base": {"profile_mix": "gpt-5.2"}}, "demo")
    >>> [(entry.role, Path(entry.path).name) for entry in study_inputs(study)]
    [('profile gpt-5.2', 'gpt-5.2.toml')]
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from simulation.errors import StudyError
from simulation.experiments.study import Study
from simulation.profiles import ProfileError, available_profiles, load_profile_file, parse_mix

INPUTS_FILE = "inputs.json"


@dataclass(frozen=True)
class InputFile:
    """One file a study reads: what for (``role``), where, and its contents' SHA-256."""

    role: str
    path: str
    sha256: str

    @property
    def key(self) -> str:
        """What identifies the input across resumes: its role and the name the study uses."""
        return self.role


def _values(study: Study, name: str) -> list[Any]:
    """Every value ``name`` takes in the study: the base's, each level's, each arm's."""
    values = [getattr(study.base, name)]
    for variable in study.vary:
        if variable.name == name:
            values += list(variable.values)
    values += [arm.changes[name] for arm in study.arms if name in arm.changes]
    return list(dict.fromkeys(values))


def _digest(path: Path, role: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StudyError(f"{role}: cannot read {path} ({exc.strerror or exc})") from None
    return hashlib.sha256(data).hexdigest()


def study_inputs(study: Study) -> list[InputFile]:
    """The files the study's runs read, in a stable order, each with its contents' hash.

    Graph files are listed by the path the study gives; profiles by the name (or path)
    the mix gives, with the file that defines them. A profile mix or graph file that
    cannot be read raises :class:`StudyError` (the study's checks normally catch it
    first).
    """
    found: dict[str, InputFile] = {}
    for value in _values(study, "graph_file"):
        if value:
            role = f"graph_file {value}"
            found[role] = InputFile(role, str(value), _digest(Path(value), role))
    mixes = [m for m in _values(study, "profile_mix") if m]
    profiles = available_profiles() if mixes else {}
    for mix in mixes:
        try:
            names = [name for name, _ in parse_mix(mix)]
        except ProfileError:
            continue  # refused by the study's own checks, with a better message
        for name in names:
            role = f"profile {name}"
            if role in found:
                continue
            if name in profiles:
                path = profiles[name].path
            elif name.endswith(".toml"):
                try:
                    path = load_profile_file(Path(name)).path
                except ProfileError:
                    continue
            else:
                continue
            if path is None:
                continue
            found[role] = InputFile(role, str(path), _digest(Path(path), role))
    return [found[key] for key in sorted(found)]


def inputs_text(inputs: list[InputFile]) -> str:
    """The ``inputs.json`` of a results folder."""
    document = {
        "note": "files the study's runs read, with the SHA-256 of their contents; a resume "
        "refuses to mix runs of a changed file",
        "files": [asdict(entry) for entry in inputs],
    }
    return json.dumps(document, indent=1) + "\n"


def read_inputs(path: Path) -> list[InputFile] | None:
    """The inputs recorded in ``path``, or ``None`` if there is no readable record (a
    folder made before records were kept, or a damaged file: nothing to compare)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return [InputFile(**entry) for entry in document["files"]]
    except (OSError, ValueError, TypeError, KeyError):
        return None


def changed_input(stored: list[InputFile], current: list[InputFile]) -> InputFile | None:
    """The first input whose contents differ between ``stored`` and ``current``."""
    before = {entry.key: entry for entry in stored}
    for entry in current:
        old = before.get(entry.key)
        if old is not None and old.sha256 != entry.sha256:
            return entry
    return None
