"""The results store: one folder per study, append-only Parquet parts written atomically.

Layout of a study folder::

    study.toml            the resolved study (itself a valid study file)
    inputs.json           the files its runs read (graph files, profiles) and the SHA-256
                          of their contents
    runs/part-*.parquet   one row per run: key, arm, scenario, replicate, seed, every
                          parameter, status, error, wall and CPU time, every outcome
    timeseries/part-*.parquet   per-step metrics of each run (when the study asks for them)
    report.html           the study report

Each part is written to a hidden temporary file and renamed into place, so a reader (or a
resumed study) never sees half a file; a killed study loses at most the runs it had not
yet written. Runs of a part in ``timeseries/`` are written before the part of the same name
in ``runs/``, and a series part without its runs part is removed on the next open, so both
folders always agree.

The store reads only its own parts: files named ``part-<time>-<id>.parquet`` whose
Parquet metadata carries the store's marker (or, for parts written before the marker,
exactly its columns). Any other file in ``runs/`` or ``timeseries/``, such as a foreign
table or a copy under another name, is refused with a message naming it, and a run found
in two parts is counted once.

A resume never mixes inputs: the folder is reused only by the same study (its
fingerprint) whose input files still have the contents recorded in ``inputs.json``. A
changed graph file or profile is refused with a message naming it, since the stored runs
were made with the old contents; a new ``--out`` folder (or deleting this one) starts over.

The folder loads with one call::

    pandas.read_parquet("DIR/runs")
    polars.read_parquet("DIR/runs/*.parquet")
    duckdb.sql("SELECT * FROM 'DIR/runs/*.parquet'")
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import os
import re
import socket
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from simulation.config import config_fields, field_type
from simulation.errors import OutputError
from simulation.experiments.inputs import (
    INPUTS_FILE,
    InputFile,
    changed_input,
    inputs_text,
    read_inputs,
    study_inputs,
)
from simulation.experiments.study import Study, StudyError
from simulation.experiments.study_file import load_study
from simulation.metrics import METRIC_COLUMNS, SUMMARY_DESCRIPTIONS
from simulation.reports.output import (
    RESULT_MARKER,
    atomic_file,
    check_destination,
    check_kind,
    folder_lock,
    mark_kind,
    os_reason,
    write_atomic,
)
from simulation.textfile import folder_problem

RUNS_DIR = "runs"
SERIES_DIR = "timeseries"
STUDY_FILE = "study.toml"
REPORT_FILE = "report.html"
LOCK_FILE = ".lock"
PLOTLY_FILE = "plotly.min.js"
STATUS_OK = "ok"
STATUS_FAILED = "failed"
TIMING_COLUMNS = ("wall_time_s", "cpu_time_s")
OUTCOMES = tuple(SUMMARY_DESCRIPTIONS)
SEARCH_FILES = ("front.parquet", "candidates.parquet", "comparison.parquet", "convergence.csv")
"""What a search writes beside its runs (:mod:`simulation.experiments.search`)."""
STUDY_FOLDER_FILES = (
    STUDY_FILE,
    INPUTS_FILE,
    REPORT_FILE,
    PLOTLY_FILE,
    LOCK_FILE,
    RESULT_MARKER,
    *SEARCH_FILES,
)
"""The files (never folders) of a study folder."""

PART_RE = re.compile(r"^part-\d{20}-[0-9a-f]{8}\.parquet$")
MARKER_KEY = b"ppsim.part"

_ARROW_TYPES = {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "bool": pa.bool_()}


def runs_schema() -> pa.Schema:
    """Schema of ``runs/`` parts: fixed, so every part (and every executor) agrees."""
    fields = [
        pa.field("run_key", pa.string(), nullable=False),
        pa.field("arm", pa.string(), nullable=False),
        pa.field("scenario", pa.int64(), nullable=False),
        pa.field("replicate", pa.int64(), nullable=False),
        pa.field("seed", pa.int64(), nullable=False),
    ]
    fields += [pa.field(f.name, _ARROW_TYPES[field_type(f)]) for f in config_fields()]
    fields += [
        pa.field("status", pa.string(), nullable=False),
        pa.field("error", pa.string()),
        pa.field("wall_time_s", pa.float64()),
        pa.field("cpu_time_s", pa.float64()),
    ]
    fields += [pa.field(name, pa.float64()) for name in OUTCOMES]
    return pa.schema(fields, metadata={MARKER_KEY: RUNS_DIR.encode()})


def series_schema() -> pa.Schema:
    """Schema of ``timeseries/`` parts: run identity, step, then every per-step metric."""
    fields = [
        pa.field("run_key", pa.string(), nullable=False),
        pa.field("arm", pa.string(), nullable=False),
        pa.field("scenario", pa.int64(), nullable=False),
        pa.field("replicate", pa.int64(), nullable=False),
        pa.field("step", pa.int64(), nullable=False),
    ]
    fields += [pa.field(name, pa.float64()) for name in METRIC_COLUMNS]
    return pa.schema(fields, metadata={MARKER_KEY: SERIES_DIR.encode()})


def _foreign(path: Path, schema: pa.Schema) -> str | None:
    """Why ``path`` is not one of this store's parts of ``schema``'s kind, or ``None``."""
    if not PART_RE.match(path.name):
        return "its name is not part-<time>-<id>.parquet, so the store did not write it"
    try:
        found = pq.read_schema(path)
    except (pa.ArrowException, OSError):
        return "it is not a readable Parquet file"
    kind = (found.metadata or {}).get(MARKER_KEY)
    if kind == schema.metadata[MARKER_KEY]:
        return None
    if kind is None and found.remove_metadata().equals(schema.remove_metadata()):
        return None  # a part written before parts carried the marker
    return f"it is not a {schema.metadata[MARKER_KEY].decode()} part written by ppsim"


def _parts(folder: Path, schema: pa.Schema) -> list[Path]:
    """This store's parts in ``folder``, in writing order; any other file is refused.

    Hidden files are temporary files of a write in progress (cleaned on open).
    """
    if not folder.is_dir():
        return []
    parts = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        problem = _foreign(path, schema)
        if problem:
            raise StudyError(
                f"{path}: {problem}; move it out of {folder} (the store reads only its own "
                "parts, and would otherwise count it as results)"
            )
        parts.append(path)
    return parts


def _write_part(table: pa.Table, path: Path) -> None:
    with atomic_file(path) as tmp:
        pq.write_table(table, tmp)


def _read(folder: Path, schema: pa.Schema, columns: list[str] | None = None) -> pd.DataFrame:
    """The rows of the parts in ``folder``, each run (each run's step, for series) once: a
    run that a copied part holds twice keeps its first row."""
    parts = _parts(folder, schema)
    if not parts:
        empty = schema.empty_table()
        return (empty.select(columns) if columns else empty).to_pandas()
    parts_read = ds.dataset([str(p) for p in parts], schema=schema, format="parquet")
    frame = parts_read.to_table(columns=columns).to_pandas()
    key = ["run_key", "step"] if "step" in schema.names else ["run_key"]
    return frame.drop_duplicates(key, keep="first", ignore_index=True)


def _sort(frame: pd.DataFrame, arm_order: tuple[str, ...]) -> pd.DataFrame:
    """Rows in run-key order (arm as in the study, scenario, replicate): executor-independent."""
    if frame.empty:
        return frame.reset_index(drop=True)
    rank = frame["arm"].map({a: i for i, a in enumerate(arm_order)}).fillna(len(arm_order))
    order = pd.DataFrame(
        {
            "a": rank.to_numpy(),
            "n": frame["arm"].to_numpy(),  # a search's candidates, which the study does not list
            "s": frame["scenario"].to_numpy(),
            "r": frame["replicate"].to_numpy(),
        }
    )
    index = order.sort_values(["a", "n", "s", "r"], kind="stable").index
    return frame.loc[index].reset_index(drop=True)


class StudyStore:
    """The output folder of one study, opened for writing (holds a lock until closed).

    Use :meth:`open`; it refuses a folder that holds another study's results.
    """

    def __init__(self, root: Path, study: Study) -> None:
        self.root = Path(root)
        self.study = study
        self.runs_dir = self.root / RUNS_DIR
        self.series_dir = self.root / SERIES_DIR
        self._lock: int | None = None
        self.inputs: list[InputFile] = []

    @classmethod
    def open(cls, root: str | Path, study: Study) -> StudyStore:
        """Open (or create) the folder for ``study``; refuse it if it holds another study,
        another kind of result (a run's, a validation's), a folder where the store writes a
        file (or the reverse), or cannot be written (one line naming the path and the
        operating system's reason). A refused folder that this call created is removed."""
        root = Path(root)
        check_destination(
            root,
            kind="study",
            files=STUDY_FOLDER_FILES,
            folders=(RUNS_DIR, SERIES_DIR),
            staged=False,
        )
        created = [p for p in (root, *root.parents) if not p.exists()]
        store = cls(root, study)
        try:
            with _os_errors(root, "cannot write"):
                root.mkdir(parents=True, exist_ok=True)
                store._acquire()
                with folder_lock(root):  # a run publishing here at once takes its turn
                    check_kind(root, "study")
                    mark_kind(root, "study")
                store.inputs = study_inputs(study)
                store._check_same_study()
                store.runs_dir.mkdir(exist_ok=True)
                if study.timeseries:
                    store.series_dir.mkdir(exist_ok=True)
                store._clean()
                write_atomic(root / STUDY_FILE, _study_text(study))
                write_atomic(root / INPUTS_FILE, inputs_text(store.inputs))
        except BaseException:
            owned = store._lock is not None  # else the folder is another command's
            store.close()
            if created:  # nothing of a refused study stays behind
                store._remove_own(created, owned)
            raise
        return store

    def _remove_own(self, created: list[Path], owned: bool) -> None:
        """Remove what a failed :meth:`open` made in a folder it created (if it held the
        folder's lock: else the folder is another command's), and the folders it created
        if they are left empty; never anything another command wrote there."""
        if owned:
            with contextlib.suppress(OSError):
                if (self.root / RESULT_MARKER).read_text(encoding="utf-8").strip() == "study":
                    (self.root / RESULT_MARKER).unlink()
            for name in (STUDY_FILE, INPUTS_FILE):
                with contextlib.suppress(OSError):
                    (self.root / name).unlink()
            for folder in (self.series_dir, self.runs_dir):
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only if empty
        for folder in created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty

    def __enter__(self) -> StudyStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- locking and consistency -------------------------------------------------------
    def _acquire(self) -> None:
        """Take the folder's OS lock on ``.lock``, or refuse naming its holder.

        A POSIX record lock (``lockf``): the operating system releases it when its holder
        exits, however it dies, so a lock left by a killed process is simply free; of
        several processes opening the folder at once exactly one gets it; and worker
        processes forked later do not inherit it. The file records the holder for the
        message. Taking a lock on a file another process has just removed would lock
        nothing, so the lock counts only if the path still names the locked file.
        """
        path = self.root / LOCK_FILE
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                os.close(fd)
                host, _, pid = holder.partition(" ")
                raise StudyError(
                    f"{self.root}: in use by process {pid or '?'} on {host or '?'}; wait for "
                    "it to finish"
                ) from None
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # released and removed meanwhile: lock the new file instead
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{socket.gethostname()} {os.getpid()}".encode(), 0)
        self._lock = fd

    def close(self) -> None:
        """Release the folder's lock (removing the file first, while still holding it)."""
        if self._lock is not None:
            (self.root / LOCK_FILE).unlink(missing_ok=True)
            os.close(self._lock)  # closing the descriptor releases the lock
            self._lock = None

    def _check_same_study(self) -> None:
        path = self.root / STUDY_FILE
        if not path.exists():
            if _parts(self.runs_dir, runs_schema()):
                raise StudyError(
                    f"--out {self.root}: holds runs but no {STUDY_FILE}; choose another folder"
                )
            return
        try:
            stored = load_study(path, stored=True)
        except StudyError as exc:
            raise StudyError(
                f"--out {self.root}: its {STUDY_FILE} cannot be read ({exc}); choose another folder"
            ) from None
        if stored.fingerprint() != self.study.fingerprint():
            raise StudyError(
                f"--out {self.root}: holds results of a different study "
                f"({stored.name}, {stored.kind}); the study changed since, so its runs cannot "
                f"be reused{_calibration_hint(stored, self.study)}. Choose another --out "
                "folder, or delete this one to start over"
            )
        self._check_same_inputs()

    def _check_same_inputs(self) -> None:
        """Refuse a resume whose input files changed since the stored runs were made."""
        stored = read_inputs(self.root / INPUTS_FILE)
        if stored is None or not _parts(self.runs_dir, runs_schema()):
            return  # nothing recorded (an older folder) or nothing stored to mix with
        changed = changed_input(stored, self.inputs)
        if changed is not None:
            raise StudyError(
                f"{self.root} was run with another version of {changed.path} (its contents "
                f"changed); use a new --out folder, or delete {self.root} to start over"
            )

    def check_inputs_unchanged(self) -> None:
        """Refuse to report a study whose input files changed while it ran: its runs may
        mix both versions (the record keeps the first, so a resume is refused too)."""
        changed = changed_input(self.inputs, study_inputs(self.study))
        if changed is not None:
            raise StudyError(
                f"{changed.path} changed while the study ran, so the runs in {self.root} may "
                f"mix both versions; use a new --out folder, or delete {self.root} to start "
                "over"
            )

    def _clean(self) -> None:
        """Remove temporary files of an interrupted write and orphaned series parts."""
        for folder in (self.runs_dir, self.series_dir):
            if folder.is_dir():
                for tmp in folder.glob(".*.tmp"):
                    tmp.unlink(missing_ok=True)
        run_names = {p.name for p in _parts(self.runs_dir, runs_schema())}
        for part in _parts(self.series_dir, series_schema()):
            if part.name not in run_names:
                part.unlink(missing_ok=True)

    # -- reading -----------------------------------------------------------------------
    def stored_status(self) -> dict[str, str]:
        """Status (``ok``/``failed``) of every stored run, by run key."""
        frame = _read(self.runs_dir, runs_schema(), ["run_key", "status"])
        return dict(zip(frame["run_key"], frame["status"], strict=True))

    def load(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Every stored run, one row each, in run-key order (only ``columns``, if given;
        ``run_key``, ``arm``, ``scenario`` and ``replicate`` are always among them)."""
        if columns is not None:
            keys = ["run_key", "arm", "scenario", "replicate"]
            columns = keys + [c for c in dict.fromkeys(columns) if c not in keys]
        return _sort(_read(self.runs_dir, runs_schema(), columns), self.study.arm_names)

    # -- writing -----------------------------------------------------------------------
    def append(self, rows: list[dict[str, Any]], series: Iterable[pd.DataFrame] = ()) -> None:
        """Write finished runs (and their time series) as one new part, atomically.

        A write the operating system refuses (a full disk) raises :class:`OutputError`
        naming the file and the reason; the parts written before stay, for a resume.
        """
        if not rows:
            return
        name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        frames = [s for s in series if s is not None and not s.empty]
        with _os_errors(self.root, "cannot write", _RESUME_HINT):
            if frames and self.study.timeseries:
                table = pa.Table.from_pandas(
                    pd.concat(frames, ignore_index=True),
                    schema=series_schema(),
                    preserve_index=False,
                )
                _write_part(table, self.series_dir / name)
            _write_part(pa.Table.from_pylist(rows, schema=runs_schema()), self.runs_dir / name)

    def drop_failed(self) -> int:
        """Remove failed runs from the store so they run again; returns how many.

        Each affected part is rewritten atomically without its failed rows (failed runs
        have no time series), so a crash here loses nothing that had finished.
        """
        dropped = 0
        with _os_errors(self.root, "cannot rewrite", _RESUME_HINT):
            for part in _parts(self.runs_dir, runs_schema()):
                table = pq.read_table(part, schema=runs_schema())
                failed = pc.equal(table["status"], STATUS_FAILED)
                count = pc.sum(failed).as_py() or 0
                if not count:
                    continue
                dropped += count
                kept = table.filter(pc.invert(failed))
                if kept.num_rows:
                    _write_part(kept, part)
                else:
                    (self.series_dir / part.name).unlink(missing_ok=True)
                    part.unlink()
        return dropped


_RESUME_HINT = (
    "; the runs stored so far are kept: fix that and run the same command again to resume"
)


@contextmanager
def _os_errors(root: Path, doing: str, hint: str = "") -> Iterator[None]:
    """Turn an operating-system error (a full disk, a read-only file system, a folder where
    a file should be) into one :class:`OutputError` line naming the path and the reason."""
    try:
        yield
    except OSError as exc:
        where = exc.filename if exc.filename is not None else root
        raise OutputError(f"--out {root}: {doing} {where} ({os_reason(exc)}){hint}") from None


def _calibration_hint(stored: Study, study: Study) -> str:
    """When only ``calibration`` tells the stored study from ``study`` (a folder run before
    studies defaulted to posterior calibration), how to resume it as it was run."""
    value = stored.base.calibration
    if value == study.base.calibration:
        return ""
    same = dataclasses.replace(study, base=study.base.replace(calibration=value))
    if same.fingerprint() != stored.fingerprint():
        return ""
    return f" (it ran with calibration = {value!r}; --set calibration={value} resumes it)"


def _study_text(study: Study) -> str:
    body = study.to_toml()
    header = (
        f"# Resolved study, written by ppsim; fingerprint {study.fingerprint()[:16]}; "
        f"text {_digest(body)}.\n"
        "# Results: runs/*.parquet (one row per run). Rebuild the report: ppsim report "
        "<this folder>\n"
    )
    return header + body


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:16]


_TEXT_DIGEST = re.compile(r"; text ([0-9a-f]{16})\.$")


def check_unedited(root: str | Path) -> None:
    """Refuse a results folder whose ``study.toml`` was edited since ppsim wrote it: its
    runs were made by the study it recorded, so a report of the edited one would describe
    runs that never ran. (A file written before the header recorded its text's digest
    cannot be checked.)"""
    path = Path(root) / STUDY_FILE
    text = path.read_bytes().decode("utf-8", "replace").removeprefix("\ufeff")
    first, _, rest = text.partition("\n")
    found = _TEXT_DIGEST.search(first.rstrip("\r"))
    if found is not None and _digest(rest.partition("\n")[2]) != found.group(1):
        raise StudyError(
            f"{path}: edited since ppsim wrote it, but the runs in {root} were made by the "
            "study it recorded; restore it, or run the edited study into a new --out folder"
        )


# --------------------------------------------------------------------------------------
# Read-only access


def read_stored_study(root: str | Path) -> Study:
    """The study a results folder was made by (from its ``study.toml``)."""
    root = Path(root)
    path = root / STUDY_FILE
    problem = folder_problem(root)
    if problem:
        raise StudyError(f"{root}: not a study results folder (it {problem})")
    if not os.path.lexists(path):
        raise StudyError(f"{root}: not a study results folder (no {STUDY_FILE})")
    return load_study(path, stored=True)


def load_runs(root: str | Path) -> pd.DataFrame:
    """Every run stored in a results folder, one row each, in run-key order.

    Equivalent to ``pandas.read_parquet(root / "runs")`` with the rows sorted.
    """
    root = Path(root)
    study = read_stored_study(root)
    return _sort(_read(root / RUNS_DIR, runs_schema()), study.arm_names)


def load_timeseries(root: str | Path) -> pd.DataFrame:
    """The per-step metrics stored with the runs (empty if the study did not keep them)."""
    root = Path(root)
    arms = read_stored_study(root).arm_names
    frame = _read(root / SERIES_DIR, series_schema())
    if frame.empty:
        return frame
    rank = frame["arm"].map({a: i for i, a in enumerate(arms)}).fillna(len(arms))
    order = frame.assign(_rank=rank.to_numpy()).sort_values(
        ["_rank", "scenario", "replicate", "step"], kind="stable"
    )
    return order.drop(columns="_rank").reset_index(drop=True)
