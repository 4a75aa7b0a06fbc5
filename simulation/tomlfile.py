"""Reading a TOML input file with the project's one-line errors, and the "did you mean" hint.

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


def read_toml(path: Path, error: type[PpsimError], missing: str) -> dict[str, Any]:
    """Parse ``path``; raise ``error(missing)`` if it is absent, ``error`` naming the file
    and the parser's reason if it is not valid TOML."""
    if not path.is_file():
        raise error(missing)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML ({exc})") from None


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``options`` to ``word``, or ``""``.

    >>> did_you_mean("bsae", ("base", "seed"))
    " (did you mean 'base'?)"
    """
    hint = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.5)
    return f" (did you mean {hint[0]!r}?)" if hint else ""
