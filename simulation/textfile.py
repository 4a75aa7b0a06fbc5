"""Reading the files a user gives: what the path is, then its text as UTF-8.

Every input file passes here: a ``--config`` file, a study file, a profile, a graph file,
validation settings and the ``study.toml`` a results folder keeps. So each gets the same
one-line refusals, raised as the caller's :class:`~simulation.errors.PpsimError`:

- a path that is not a regular file says what it is (a folder, a FIFO, a device), never
  "does not exist"; its kind is read with ``os.stat`` before anything opens it, since
  opening a FIFO would wait for a writer;
- text that is not UTF-8 is refused naming the encoding it looks like (UTF-16, UTF-32,
  Latin-1), rather than read as garbage or failing deep in a parser;
- a UTF-8 byte-order mark (which some Windows editors write) is dropped, not read as the
  first character of the file.

    >>> encoding_problem(b"\\xef\\xbb\\xbfn_systems = 5\\n") is None  # UTF-8 with a mark
    True
    >>> print(encoding_problem("x = 1".encode("utf-16")))
    is not UTF-8 text (it looks like UTF-16, from its byte-order mark); save it as UTF-8
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

from simulation.errors import PpsimError

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_BOMS = (  # UTF-32 first: its little-endian mark begins with UTF-16's
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
SAVE_AS = "save it as UTF-8"


def kind_of(mode: int) -> str:
    """What a ``st_mode`` is, in words: ``"a folder"``, ``"a FIFO"``, ``"a regular file"``."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a file or a folder"


def _stat_problem(path: str | os.PathLike[str]) -> tuple[os.stat_result | None, str | None]:
    try:
        return os.stat(path), None
    except (FileNotFoundError, NotADirectoryError):
        return None, "does not exist"
    except PermissionError:
        return None, "cannot be read (permission denied)"
    except (OSError, ValueError) as exc:  # a symlink loop, a name too long, a NUL byte
        reason = getattr(exc, "strerror", None) or str(exc)
        return None, f"cannot be read ({reason})"


def file_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be read as a file (``"does not exist"``, ``"is a folder; give a
    file"``, ``"is not a regular file (a FIFO); give a file"``), or ``None``."""
    found, problem = _stat_problem(path)
    if found is None:
        return problem
    if stat.S_ISREG(found.st_mode):
        return None
    if stat.S_ISDIR(found.st_mode):
        return "is a folder; give a file"
    return f"is not a regular file ({kind_of(found.st_mode)}); give a file"


def folder_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` is not a folder (``"does not exist"``, ``"is a file, not a folder"``,
    ``"is a FIFO, not a folder"``), or ``None``."""
    found, problem = _stat_problem(path)
    if found is None:
        return problem
    if stat.S_ISDIR(found.st_mode):
        return None
    kind = "a file" if stat.S_ISREG(found.st_mode) else kind_of(found.st_mode)
    return f"is {kind}, not a folder"


def _nul_guess(data: bytes) -> str:
    """The wide encoding that text holding NUL bytes looks like, from where the NULs are:
    Latin letters in UTF-16 have every other byte NUL, in UTF-32 three bytes of four."""
    head = data[:4096]
    quarter = len(head) / 4
    zeros = [head[i::4].count(0) for i in range(4)]
    if quarter >= 1 and (
        min(zeros[2], zeros[3]) > 0.8 * quarter or min(zeros[0], zeros[1]) > 0.8 * quarter
    ):
        return "UTF-32"
    if max(head[0::2].count(0), head[1::2].count(0)) > quarter:
        return "UTF-16"
    return ""


def encoding_problem(data: bytes) -> str | None:
    """Why ``data`` is not UTF-8 text, naming the encoding it looks like; ``None`` if it
    is UTF-8 (with or without a byte-order mark)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _not_utf8(f"it looks like {name}, from its byte-order mark")
    if b"\x00" in data:
        guess = _nul_guess(data)
        if guess:
            return _not_utf8(f"it looks like {guess}, from its NUL bytes")
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        return _not_utf8(f"a NUL byte on line {line}: is it a binary file?")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = f"byte 0x{data[exc.start]:02x} on line {line}"
        return _not_utf8(f"{byte}{_eight_bit_guess(data)}")
    return None


def _eight_bit_guess(data: bytes) -> str:
    """``"; it looks like Latin-1 or Windows-1252"`` for mostly-ASCII text that Windows-1252
    can read (accented letters in an English file), else ``""``: no guess."""
    high = len(data) - len(data.translate(None, delete=bytes(range(0x80, 0x100))))
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return ""
    return "; it looks like Latin-1 or Windows-1252" if high <= 0.2 * len(data) else ""


def _not_utf8(why: str) -> str:
    return f"is not UTF-8 text ({why}); {SAVE_AS}"


def read_user_bytes(path: str | os.PathLike[str], error: type[PpsimError], what: str) -> bytes:
    """The bytes of the file a user gave, or ``error("<what> <path> <why not>")``.

    ``what`` names the file's role, e.g. ``"--config: file"``, ``"graph_file:"``.
    """
    problem = file_problem(path)
    if problem:
        raise error(f"{what} {path} {problem}")
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise error(f"{what} {path} cannot be read ({exc.strerror or exc})") from None


def read_user_text(path: str | os.PathLike[str], error: type[PpsimError], what: str) -> str:
    """The text of the file a user gave, decoded as UTF-8 (a byte-order mark dropped); any
    problem (missing, a folder, a FIFO, another encoding) is ``error`` in one line naming
    ``what`` and ``path``."""
    data = read_user_bytes(path, error, what)
    problem = encoding_problem(data)
    if problem:
        raise error(f"{what} {path} {problem}")
    return data.decode("utf-8-sig")
