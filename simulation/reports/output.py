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

import contextlib
import errno
import fcntl
import glob
import hashlib
import math
import os
import re
import secrets
import shutil
import socket
import stat
import sys
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


NAME_MAX = 255
"""Longest file or folder name, in bytes, that Linux, macOS and Windows file systems take."""

RESULT_MARKER = ".ppsim-result"
"""File in every result folder naming what it holds: ``run``, ``study`` or ``validation``."""
RESULT_KINDS = {
    "run": "the results of a 'ppsim run'",
    "study": "the results of a study (ppsim sweep, whatif or sensitivity)",
    "validation": "the results of 'ppsim validate'",
}
_KIND_FILES = (  # folders written before the marker: told by what they hold
    ("study", "study.toml"),
    ("study", "runs"),
    ("run", "summary.json"),
    ("validation", "validation.json"),
)


def os_reason(exc: BaseException) -> str:
    """The operating system's reason for an ``OSError``, e.g. ``No space left on device``."""
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


WRITE_FAULTS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EFBIG})
"""Operating-system errors of a disk, never of ppsim: full, over quota, failing, read-only."""


def flush_stdout() -> None:
    """Flush the standard output; if it cannot take what was printed (a redirect to a full
    disk), point it at ``/dev/null`` (so the exit does not fail on it again) and raise the
    ``OSError`` naming it."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
            sys.stdout.flush()
        if exc.filename is None:
            exc.filename = "the standard output"
        raise


def write_fault(exc: BaseException) -> str | None:
    """The one line for a disk's fault while writing (see :data:`WRITE_FAULTS`), naming
    the file (or the standard output) and the reason; ``None`` for any other exception."""
    if not isinstance(exc, OSError) or exc.errno not in WRITE_FAULTS:
        return None
    if exc.filename is None and _stdout_full():
        with contextlib.suppress(OSError):  # so the exit does not fail on it again
            flush_stdout()
        exc.filename = "the standard output"
    if exc.filename is None:
        return f"a write failed ({os_reason(exc)})"
    return f"cannot write {exc.filename} ({os_reason(exc)})"


def _stdout_full() -> bool:
    """Whether the standard output is a file on a disk with no room left."""
    try:
        fd = sys.stdout.fileno()
        return stat.S_ISREG(os.fstat(fd).st_mode) and os.fstatvfs(fd).f_bavail == 0
    except (OSError, ValueError, AttributeError):
        return False


def result_kind(folder: Path) -> str | None:
    """What ``folder`` holds: the kind its marker names, else the kind its files tell
    (``study.toml`` or ``runs/``: a study; ``summary.json``: a run; ``validation.json``: a
    validation), else ``None`` (empty, or nothing of ppsim's)."""
    try:
        text = (folder / RESULT_MARKER).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        text = ""
    if text in RESULT_KINDS:
        return text
    for kind, name in _KIND_FILES:
        if os.path.lexists(folder / name):
            return kind
    return None


def check_kind(dest: Path, kind: str, option: str = "--out") -> None:
    """Refuse to write a result of ``kind`` into a folder holding another kind of result:
    every kind writes a ``report.html``, and one would overwrite the other's."""
    found = result_kind(dest)
    if found is not None and found != kind:
        raise OutputError(
            f"{option}: {dest} holds {RESULT_KINDS[found]}; writing {RESULT_KINDS[kind]} "
            "there would overwrite its report.html; give another folder"
        )


def mark_kind(folder: Path, kind: str) -> None:
    """Record in ``folder`` which kind of result it holds (see :func:`check_kind`)."""
    marker = folder / RESULT_MARKER
    if result_kind(folder) != kind or not marker.is_file():
        write_atomic(marker, kind + "\n")


def check_entries(
    dest: Path, files: tuple[str, ...] = (), folders: tuple[str, ...] = (), option: str = "--out"
) -> None:
    """Refuse a destination where a file ppsim writes is a folder, or a folder a file, before
    anything is written (a file cannot replace a folder, nor the reverse)."""
    for names, want_dir, wanted in ((files, False, "a file"), (folders, True, "a folder")):
        for name in names:
            path = dest / name
            if os.path.lexists(path) and path.is_dir() != want_dir:
                found = "a folder" if path.is_dir() else "a file"
                raise OutputError(
                    f"{option + ': ' if option else ''}{path} is {found}, where ppsim writes "
                    f"{wanted}; move or delete it, or give another folder"
                )


def _check_name_lengths(dest: Path, option: str) -> None:
    for part in dest.parts:
        size = len(os.fsencode(part))
        if size > NAME_MAX:
            raise OutputError(
                f"{option}: cannot create {dest}: the name {part[:24]}... is {size} bytes "
                f"long; a file system takes at most {NAME_MAX}"
            )


def _probe_writable(folder: Path) -> None:
    """Create and remove an empty folder in ``folder``: the one sure test that a result can
    be written there (``/proc``, ``/sys`` and read-only file systems pass ``os.access``)."""
    probe = folder / f".ppsim-probe-{_writer_tag()}-{secrets.token_hex(4)}"
    probe.mkdir()
    probe.rmdir()


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


def check_destination(
    dest: Path,
    option: str = "--out",
    *,
    kind: str | None = None,
    files: tuple[str, ...] = (),
    folders: tuple[str, ...] = (),
    staged: bool = True,
) -> Path:
    """Fail early with a clear message if ``dest`` cannot become a result folder: it is a
    file, a name is too long, its parent is a file, nothing can be created there (``/proc``,
    a read-only disk, no permission), it holds another ``kind`` of result, or one of the
    ``files`` it will hold is a folder (one of the ``folders`` a file).

    ``staged``: the result is staged beside ``dest`` (see :func:`atomic_output`), so the
    folder above it must take new files too; else only ``dest`` (once it exists) must.
    Returns the absolute destination. Nothing is left behind.
    """
    dest = Path(dest).expanduser().absolute()
    _check_name_lengths(dest, option)
    try:
        if dest.exists() and not dest.is_dir():
            raise OutputError(f"{option}: {dest} exists and is not a folder")
        base = _nearest_existing_ancestor(dest.parent)
        if not base.is_dir():
            raise OutputError(f"{option}: cannot create {dest}: {base} is a file, not a folder")
        exists = dest.is_dir()
        writable = (base, dest) if staged and exists else (dest,) if exists else (base,)
        for folder in writable:
            if not os.access(folder, os.W_OK):
                raise OutputError(f"{option}: cannot write in {folder} (permission denied)")
            try:
                _probe_writable(folder)
            except OSError as exc:
                raise OutputError(
                    f"{option}: cannot write {dest}: {folder} takes no new files ({os_reason(exc)})"
                ) from None
        if exists:
            if kind is not None:
                check_kind(dest, kind, option)
            check_entries(dest, files, folders, option)
    except OSError as exc:
        raise OutputError(f"{option}: cannot write {dest} ({os_reason(exc)})") from None
    return dest


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` itself (``flock`` on the folder), so commands
    writing into one folder at once take turns; released when the block ends."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _publish(tmp: Path, dest: Path, last: tuple[str, ...], kind: str | None, option: str) -> None:
    """Move the finished files from ``tmp`` into ``dest``.

    A missing ``dest`` appears at once, by one rename. Into an existing one the files move
    one by one, under :func:`folder_lock` (two commands publishing into one folder take
    turns, so it ends with one command's files, not a mix), after checking that no file
    lands where a folder is (or the reverse) and that the folder holds no other kind of
    result: a refusal moves nothing.
    """
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(tmp, dest)  # a single rename: the whole folder appears at once
            return
        except OSError as exc:  # another command made it meanwhile: join its files
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not dest.is_dir():
                raise

    def order(entry: Path) -> tuple[int, str]:
        return (last.index(entry.name) + 1 if entry.name in last else 0, entry.name)

    entries = sorted(tmp.iterdir(), key=order)
    with folder_lock(dest):
        if kind is not None:
            check_kind(dest, kind, option)
        check_entries(
            dest,
            tuple(e.name for e in entries if not e.is_dir()),
            tuple(e.name for e in entries if e.is_dir()),
            option,
        )
        for entry in entries:
            target = dest / entry.name
            if entry.is_dir() and target.is_dir():
                shutil.rmtree(target)
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
    name = dest.name
    if len(os.fsencode(name)) > 100:  # leave room for the rest of the name
        digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:8]
        while len(os.fsencode(name)) > 80:
            name = name[:-1]
        name = f"{name}~{digest}"
    return f".{name}.partial-"


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
    try:
        with _staged(tmp, lambda: _replace_synced(tmp, path)):
            yield tmp
    except OSError as exc:  # name the file meant, not the temporary one (or none)
        if exc.filename is None or str(exc.filename) == str(tmp):
            exc.filename = str(path)
        raise


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
    dest: Path,
    *,
    last: tuple[str, ...] = (),
    option: str = "--out",
    kind: str | None = None,
    files: tuple[str, ...] = (),
) -> Iterator[Path]:
    """Yield an empty temporary folder; publish its contents to ``dest`` on success.

    Args:
        dest: the result folder. Created if missing (parents too); if it exists, the new
            files replace same-named ones and every other file stays.
        last: names to move last when ``dest`` already exists, e.g. ``("summary.json",)``,
            so that file's presence means the others are complete.
        option: the command-line option that named ``dest``, for error messages.
        kind: what the result is (``run``, ``validation``): recorded in the folder, and a
            folder holding another kind of result is refused (see :func:`check_kind`).
        files: the names the block will write, checked before it starts (none may be a
            folder in ``dest``).

    The temporary folder lives beside ``dest`` (in its nearest existing ancestor), so the
    final move is a rename on the same filesystem. It is removed on any error, including
    ``KeyboardInterrupt``. An operating-system error (a full disk, a read-only file system)
    becomes an :class:`OutputError` naming the path and the reason; ``dest`` is left as it
    was.
    """
    dest = check_destination(dest, option, kind=kind, files=files)
    base = _nearest_existing_ancestor(dest.parent)
    try:
        remove_stale_partials(base, dest)
        tmp = _make_temp_dir(base, _partial_prefix(dest))
    except OSError as exc:
        raise OutputError(f"{option}: cannot write in {base} ({os_reason(exc)})") from None
    try:
        with _staged(tmp, lambda: _publish(tmp, dest, last, kind, option)):
            if kind is not None:
                (tmp / RESULT_MARKER).write_text(kind + "\n", encoding="utf-8")
            yield tmp
    except OSError as exc:
        where = exc.filename if isinstance(exc.filename, str | os.PathLike) else None
        if where is not None and str(where).startswith(str(tmp)):
            where = dest / Path(where).relative_to(tmp)
        raise OutputError(
            f"{option}: cannot write {where or dest} ({os_reason(exc)}); nothing was "
            f"written to {dest}"
        ) from None


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
