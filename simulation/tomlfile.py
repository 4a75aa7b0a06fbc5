"""Reading a TOML input file with the project's one-line errors.

Example:
    >>> from pathlib import Path
    >>> read_toml(Path("/nonexistent.toml"), ValueError, "no such file")
    Traceback (most recent call last):
    ...
    ValueError: no such file
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


def read_toml(path: Path, error: type[ValueError], missing: str) -> dict[str, Any]:
    """Parse ``path``; raise ``error(missing)`` if it is absent, ``error`` naming the file
    and the parser's reason if it is not valid TOML."""
    if not path.is_file():
        raise error(missing)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML ({exc})") from None
