"""Where the compiled engine's on-disk cache lives: a folder named by a hash of every
source file the compiled functions read.

Numba's own cache only notices edits to the file that defines a function, and it freezes
the module-level constants a function reads (counter positions, phase bits, shield codes)
into the cached machine code, so an edit to ``states.py`` alone would be ignored and the
engine would write, say, policy hours into the incident column. Keying the whole cache
folder by the contents of :data:`ENGINE_SOURCES` (and the Numba version) makes any such
edit, or an upgrade of the installed package, compile afresh into a new folder; the
folders of other versions are removed.

Every module that defines compiled functions imports this one first, so the folder is set
before Numba builds their caches.

Example:
    >>> len(source_digest())
    16
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numba
from numba.core import config as numba_config

PACKAGE = Path(__file__).resolve().parent
#: every source file of the package whose contents the compiled functions read: the ones
#: that define them and the ones whose constants they use, every module of the kernels
#: package among them (tests/test_compile_cache.py checks the list against the imports of
#: the compiled modules)
ENGINE_SOURCES = (
    "compile_cache.py",
    "grouping.py",
    *sorted(path.relative_to(PACKAGE).as_posix() for path in (PACKAGE / "kernels").glob("*.py")),
    "oversight.py",
    "states.py",
)
FOLDER_PREFIX = "engine-"
_USER_CACHE = "PPSIM_USER_NUMBA_CACHE_DIR"


def source_digest(package: Path = PACKAGE) -> str:
    """A short hash of the contents of :data:`ENGINE_SOURCES` (in ``package``, this one by
    default), the Numba version and whether Numba checks array bounds."""
    # bounds-checked code is other machine code, which Numba's own cache key ignores
    flags = f"{numba.__version__} boundscheck={numba_config.BOUNDSCHECK}"
    digest = hashlib.sha256(flags.encode())
    for name in ENGINE_SOURCES:
        digest.update(name.encode())
        digest.update((package / name).read_bytes())
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    """The folder that holds the engine's cache folders: the user's NUMBA_CACHE_DIR when
    set, else the package's ``__pycache__`` when it can be written, else the user's cache
    folder (an installed package)."""
    chosen = os.environ.get(_USER_CACHE) or os.environ.get("NUMBA_CACHE_DIR")
    if chosen:
        return Path(chosen)
    if os.access(PACKAGE, os.W_OK):
        return PACKAGE / "__pycache__" / "numba"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ppsim" / "numba"


def configure() -> Path:
    """Point Numba's cache at this version's folder (once per process) and remove the
    folders of other versions; returns the folder."""
    folder_name = FOLDER_PREFIX + source_digest()
    current = os.environ.get("NUMBA_CACHE_DIR", "")
    if Path(current).name == folder_name:
        return Path(current)
    root = cache_root()
    os.environ.setdefault(_USER_CACHE, os.environ.get("NUMBA_CACHE_DIR", ""))
    folder = root / folder_name
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    numba_config.reload_config()
    _remove_other_versions(root, folder_name)
    return folder


def _remove_other_versions(root: Path, keep: str) -> None:
    """Delete the cache folders of other engine versions under ``root`` (best effort: a
    folder another process is using may stay)."""
    if not root.is_dir():
        return
    for old in root.glob(FOLDER_PREFIX + "*"):
        if old.name != keep and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


configure()
