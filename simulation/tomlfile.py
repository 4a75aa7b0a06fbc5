"""Reading a TOML input file with the project's one-line errors, and the "did you mean" hint.

The file is read by :func:`simulation.textfile.read_user_text`: UTF-8, a byte-order mark
allowed; a folder, a FIFO or a file in another encoding is refused in one line.

What the file may hold is checked by :mod:`simulation.schema`; a misspelt key or table is
an error naming the closest valid one (:func:`did_you_mean`), never silently ignored.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from simulation.errors import PpsimError
from simulation.textfile import read_user_text


def read_toml(path: Path, error: type[PpsimError], what: str) -> dict[str, Any]:
    """Parse ``path``; raise ``error`` in one line if it cannot be read as UTF-8 text (it is
    missing, a folder, a FIFO, in another encoding: ``"<what> <path> does not exist"``, see
    :func:`~simulation.textfile.read_user_text`) or is not valid TOML."""
    text = read_user_text(path, error, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML ({exc})") from None


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``options`` to ``word``, or ``""``.

    >>> did_you_mean("bsae", ("base", "seed"))
    " (did you mean 'base'?)"
    """
    hint = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.5)
    return f" (did you mean {hint[0]!r}?)" if hint else ""
