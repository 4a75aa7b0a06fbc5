"""Ctrl-C (``SIGINT``) and a plain ``kill`` (``SIGTERM``) stop a command; they are never a
failure of a run, nor a bug.

Within :func:`handled` both signals raise :class:`Interrupted`, a ``KeyboardInterrupt``
that knows its signal, and are counted. Compiled (Numba) code cannot always pass the
exception on: a ``KeyboardInterrupt`` raised while the engine's dispatcher returns comes
back as ``SystemError: CPUDispatcher(...) returned a result with an exception set``, its
cause the interruption. :func:`is_interruption` recognises that (and any exception raised
after a signal arrived), so a run is not stored as failed and the command stops as
interrupted, exit code 128 + the signal's number: 130 for Ctrl-C, 143 for ``SIGTERM``.

:func:`deferred` holds the signals back during a few steps that must not be cut half-way
(publishing a result folder, removing a temporary one); a signal that arrives meanwhile
is raised when the block ends.

Example:
    >>> exit_code(Interrupted(signal.SIGTERM)), exit_code(KeyboardInterrupt())
    (143, 130)
    >>> is_interruption(SystemError("x")), is_interruption(Interrupted(signal.SIGINT))
    (False, True)
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The command was stopped by ``signum`` (Ctrl-C or ``SIGTERM``)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


_state: dict[str, Any] = {
    "count": 0,
    "last": None,
    "defer": 0,
    "pending": None,
    "reported": False,
}


def received() -> int:
    """How many signals :func:`handled` has caught in this process so far."""
    return _state["count"]


def last_signal() -> int | None:
    """The number of the last signal caught, or ``None``."""
    return _state["last"]


def _handler(signum: int, frame: Any) -> None:
    _state["count"] += 1
    _state["last"] = signum
    if _state["defer"]:
        _state["pending"] = signum
        return
    raise Interrupted(signum)


@contextmanager
def handled() -> Iterator[None]:
    """Within the block, ``SIGINT`` and ``SIGTERM`` raise :class:`Interrupted` (only in
    the main thread, and not a signal the process was started to ignore; elsewhere the
    block changes nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {
        signum: signal.signal(signum, _handler)
        for signum in SIGNALS
        if signal.getsignal(signum) is not signal.SIG_IGN  # e.g. a job started with nohup
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold ``SIGINT`` and ``SIGTERM`` back until the block ends, then raise the last one
    that arrived (if none is already on its way)."""
    _state["defer"] += 1
    try:
        yield
    finally:
        _state["defer"] -= 1
        pending = _state["pending"]
        if not _state["defer"] and pending is not None:
            _state["pending"] = None
            raise Interrupted(pending)


def is_interruption(exc: BaseException, since: int | None = None) -> bool:
    """Whether ``exc`` is (or was caused by) an interruption: a ``KeyboardInterrupt`` in
    its chain of causes (as a traceback shows it), or, when ``since`` is a
    :func:`received` count taken before the work that raised it, any signal caught
    since."""
    if any(isinstance(link, KeyboardInterrupt) for link in _chain(exc)):
        return True
    return since is not None and received() != since


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    """``exc`` and its causes, as a traceback shows them (``raise ... from None`` ends it)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        yield exc
        seen.add(id(exc))
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)


def signal_of(exc: BaseException | None = None) -> int:
    """The signal that stopped the command: the one ``exc`` carries (or was caused by),
    else the last one caught, else ``SIGINT``."""
    for link in _chain(exc):
        if isinstance(link, Interrupted):
            return link.signum
    return last_signal() or signal.SIGINT


def exit_code(exc: BaseException | None = None) -> int:
    """128 + the signal's number, as shells report a process a signal stopped."""
    return 128 + signal_of(exc)


def message(exc: BaseException | None = None) -> str:
    """``Interrupted.`` for Ctrl-C, ``Terminated (SIGTERM).`` for a plain ``kill``."""
    return "Terminated (SIGTERM)." if signal_of(exc) == signal.SIGTERM else "Interrupted."


def reported() -> bool:
    """Whether :func:`report` has already told the user this command was stopped."""
    return _state["reported"]


def report(exc: BaseException | None = None, text: str | None = None) -> int:
    """Print one line (``text``, else :func:`message`) saying the command was stopped,
    once, and return its exit code."""
    import typer

    if not _state["reported"]:
        _state["reported"] = True
        typer.secho(text or message(exc), fg=typer.colors.YELLOW, err=True)
    return exit_code(exc)


def stop_command(exc: BaseException | None = None) -> NoReturn:
    """Say the command was stopped and exit with 128 + the signal's number."""
    import typer

    raise typer.Exit(report(exc))
