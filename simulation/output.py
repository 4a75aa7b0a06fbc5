"""Write result files and folders all at once, or not at all.

:func:`write_atomic` (built on :func:`atomic_file`) writes one file: the content goes to a
hidden temporary file beside it, which is renamed over the file only once complete, so a
reader never sees half a file and an error or Ctrl-C leaves the old file (or none).

A command that writes several files (a summary, a time series, a report) should never leave
half of them behind when it fails or is interrupted, nor a mix of old and new files that
looks complete. :func:`atomic_output` hands the command an empty temporary folder next to
the destination; only when the block finishes without error are the files moved into the
destination (created if needed). Files already in the destination that the command did not
write are kept. On an error or Ctrl-C the temporary folder is deleted and the destination is
left exactly as it was. A process killed outright (``kill -9``, a power cut) cannot clean
up, so its temporary folder is removed by the next command writing to the same destination
once no living process owns it (the folder's name records the writer's host and process).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as base:
    ...     dest = Path(base) / "results"
    ...     with atomic_output(dest) as folder:
    ...         _ = write_atomic(folder / "summary.json", "{}")
    ...     sorted(p.name for p in Path(base).iterdir()), (dest / "summary.json").read_text()
    (['results'], '{}')
"""

from __future__ import annotations

import glob
import math
import os
import re
import secrets
import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from simulation import interrupts
from simulation.errors import OutputError

_NAME_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot become a file or folder name, or ``None`` if it can.

    Names users give (studies, policy arms) end up in paths such as ``results/<name>``, so
    they take letters, digits, ``-``, ``_`` and ``.`` only, do not start with ``.`` (no
    ``.``, ``..`` or hidden names) and have at most 100 characters.

    >>> name_problem("oversight-2026"), name_problem("..") is not None
    (None, True)
    """
    if isinstance(name, str) and _NAME_RE.match(name):
        return None
    return (
        "expected up to 100 letters, digits, '-', '_' or '.', not starting with '.' "
        f"(it becomes a folder name), got {name!r}"
    )


def _nearest_existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path.cwd()  # pragma: no cover - the filesystem root always exists


def out_folder(text: str | Path | None, option: str = "--out") -> Path | None:
    """The folder an ``--out`` option names, or ``None`` if it was not given.

    An empty name is refused rather than read as the current folder (``Path("")`` is
    ``.``), so a blank shell variable never scatters results where the command runs.
    """
    if text is None:
        return None
    if not str(text).strip():
        raise OutputError(f"{option}: empty folder name; give a folder, e.g. {option} results/demo")
    return Path(text)


def check_destination(dest: Path, option: str = "--out") -> Path:
    """Fail early with a clear message if ``dest`` cannot become a result folder.

    Returns the absolute destination. Nothing is created.
    """
    dest = Path(dest).expanduser().absolute()
    if dest.exists() and not dest.is_dir():
        raise OutputError(f"{option}: {dest} exists and is not a folder")
    base = _nearest_existing_ancestor(dest.parent)
    if not base.is_dir():
        raise OutputError(f"{option}: cannot create {dest}: {base} is a file, not a folder")
    if not os.access(base, os.W_OK):
        raise OutputError(f"{option}: cannot write in {base} (permission denied)")
    return dest


def _publish(tmp: Path, dest: Path, last: tuple[str, ...]) -> None:
    """Move the finished files from ``tmp`` into ``dest``."""
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, dest)  # a single rename: the whole folder appears at once
        return

    def order(entry: Path) -> tuple[int, str]:
        return (last.index(entry.name) + 1 if entry.name in last else 0, entry.name)

    for entry in sorted(tmp.iterdir(), key=order):
        target = dest / entry.name
        if entry.is_dir() and target.exists():
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink()
        os.replace(entry, target)
    tmp.rmdir()


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, but belongs to another user
        return True
    return True


def _partial_prefix(dest: Path) -> str:
    return f".{dest.name}.partial-"


def _writer_tag() -> str:
    """``host-pid``: who writes a temporary folder, so a later run can tell it is stale."""
    return f"{socket.gethostname()}-{os.getpid()}"


def remove_stale_partials(base: Path, dest: Path) -> list[Path]:
    """Remove temporary folders for ``dest`` left in ``base`` by dead writers on this host.

    Returns the folders removed. A folder of a living writer, of another host, or of an
    unknown form is left alone.
    """
    prefix = _partial_prefix(dest)
    host = socket.gethostname()
    removed = []
    for entry in base.glob(f"{glob.escape(prefix)}*"):
        match = re.fullmatch(r"(?P<host>.+)-(?P<pid>\d+)-[0-9a-f]{8}", entry.name[len(prefix) :])
        if not (match and entry.is_dir() and match["host"] == host):
            continue
        if not process_alive(int(match["pid"])):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _make_temp_dir(base: Path, prefix: str) -> Path:
    """A new empty folder in ``base`` with the usual permissions (``mkdtemp`` uses 0700,
    which the published folder would keep)."""
    while True:
        candidate = base / f"{prefix}{_writer_tag()}-{secrets.token_hex(4)}"
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate


@contextmanager
def _staged(tmp: Path, publish: Callable[[], object]) -> Iterator[Path]:
    """Yield ``tmp`` to fill; call ``publish`` if the block succeeds, else delete ``tmp``."""
    try:
        yield tmp
        with interrupts.deferred():  # Ctrl-C never cuts a publication half-way
            publish()
    except BaseException:
        with interrupts.deferred():  # nor the cleanup
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)
        raise


def _replace_synced(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())  # the data is on disk before the name points to it
    os.replace(tmp, path)


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a hidden temporary path beside ``path`` to write to; it replaces ``path`` when
    the block succeeds and is deleted if it fails (``path`` stays as it was).

    For writers that take a path, e.g. ``pq.write_table(table, tmp)``. The temporary name,
    ``.<name>.<hex>.tmp``, is one a cleanup can recognise.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with _staged(tmp, lambda: _replace_synced(tmp, path)):
        yield tmp


def write_atomic(path: Path, content: str | bytes) -> Path:
    """Write ``content`` (text as UTF-8) to ``path`` all at once, or not at all; returns
    ``path``."""
    with atomic_file(path) as tmp:
        if isinstance(content, str):
            tmp.write_text(content, encoding="utf-8")
        else:
            tmp.write_bytes(content)
    return Path(path)


@contextmanager
def atomic_output(
    dest: Path, *, last: tuple[str, ...] = (), option: str = "--out"
) -> Iterator[Path]:
    """Yield an empty temporary folder; publish its contents to ``dest`` on success.

    Args:
        dest: the result folder. Created if missing (parents too); if it exists, the new
            files replace same-named ones and every other file stays.
        last: names to move last when ``dest`` already exists, e.g. ``("summary.json",)``,
            so that file's presence means the others are complete.
        option: the command-line option that named ``dest``, for error messages.

    The temporary folder lives beside ``dest`` (in its nearest existing ancestor), so the
    final move is a rename on the same filesystem. It is removed on any error, including
    ``KeyboardInterrupt``.
    """
    dest = check_destination(dest, option)
    base = _nearest_existing_ancestor(dest.parent)
    remove_stale_partials(base, dest)
    tmp = _make_temp_dir(base, _partial_prefix(dest))
    with _staged(tmp, lambda: _publish(tmp, dest, last)):
        yield tmp


def json_safe(value: Any) -> Any:
    """A JSON-ready copy: NaN and infinities become None, tuples lists, NumPy scalars
    Python numbers, keys strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # NumPy scalars
        return json_safe(value.item())
    return value
