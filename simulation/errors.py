"""The one base of every error meant for a user: bad input, not a bug.

The command line catches :class:`PpsimError` alone and prints its first line with exit
code 2. Anything else that escapes a command is a bug; it is reported as one (see
:func:`simulation.cli.main`), so a broken invariant never looks like a user's mistake.

    >>> try:
    ...     raise UsageError("--out: results is a file; give a folder")
    ... except PpsimError as exc:
    ...     print(exc.exit_code, exc)
    2 --out: results is a file; give a folder
"""

from __future__ import annotations


class PpsimError(Exception):
    """Input the user can fix: the message names the field, file or option and what is
    allowed."""

    exit_code = 2


class UsageError(PpsimError):
    """A command-line option or a call names something that cannot be used."""


class ConfigError(PpsimError):
    """A configuration value is invalid; the message names the field and what is allowed."""


class OutputError(PpsimError):
    """The destination cannot be used (it is a file, or no folder can be created there)."""


class ProfileError(PpsimError):
    """A profile file or a profile mix is malformed; the message says where and how."""


class PaperDataError(PpsimError):
    """The study's rate table is missing or malformed."""


class SettingsError(PpsimError):
    """A validation study file is malformed; the message names the key and what is allowed."""


class StudyError(PpsimError):
    """A study file is invalid; the message names the file, the key and what is expected."""


class AssetError(PpsimError):
    """The page's scripts cannot be installed; the message says why and what to do."""


class TopologyError(PpsimError):
    """The requested network cannot be built; the message says why and how to fix it."""
