"""The ``ppsim`` command line: each command lives in ``simulation/cli/commands/`` and registers
itself on this Typer app."""

from __future__ import annotations

import gc
import importlib
import inspect
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperGroup
from typer.models import ParameterInfo

import simulation
from simulation import interrupts
from simulation.reports.output import flush_stdout, write_fault

# Typer carries its own copy of click; its exceptions are those of the module that
# defines ``typer.BadParameter``.
_click_errors = importlib.import_module(typer.BadParameter.__module__)
UsageError: type[Exception] = _click_errors.UsageError


def usage_error_line(exc: Any, command: str = "ppsim") -> str:
    """The one line a command-line usage error is shown as: the option and what it takes
    (``--workers: input should be greater than or equal to 1``), then where help is
    (``command``'s, unless the error knows its command)."""
    param = getattr(exc, "param", None) if isinstance(exc, typer.BadParameter) else None
    if param is not None:
        is_option = getattr(param, "param_type_name", "") == "option" and param.opts
        message = str(exc.message)
        if message[:2].istitle():  # "Input should be ..." reads on after the colon
            message = message[0].lower() + message[1:]
        text = f"{param.opts[0] if is_option else param.human_readable_name}: {message}"
    else:
        text = exc.format_message()
    text = " ".join(text.split()).rstrip(".")
    ctx = getattr(exc, "ctx", None)
    return f"{text} (see '{ctx.command_path if ctx is not None else command} --help')"


@contextmanager
def one_line_usage_errors(ctx: typer.Context | None = None) -> Iterator[None]:
    """Show a usage error (a bad option value, an unknown option, a missing or extra
    argument) as one ``Error:`` line with exit code 2, like every other input error, rather
    than as Typer's usage box. A command called without the arguments it needs still shows
    its help. ``ctx`` is the group's, to name the command an error came from."""
    try:
        yield
    except UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            raise
        command = "ppsim"
        if ctx is not None:
            command = " ".join(filter(None, (ctx.command_path, ctx.invoked_subcommand)))
        typer.secho(f"Error: {usage_error_line(exc, command)}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


class PpsimGroup(TyperGroup):
    """The app's group of commands: its own and its commands' usage errors are one line
    (:func:`one_line_usage_errors`); parsing a command's options happens within
    :meth:`invoke`."""

    def make_context(self, *args: Any, **kwargs: Any) -> typer.Context:
        with one_line_usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: typer.Context) -> Any:
        with one_line_usage_errors(ctx):
            return super().invoke(ctx)


app = typer.Typer(
    cls=PpsimGroup,
    name="ppsim",
    help="Simulate peer-preservation in networks of AI systems: how far faults cascade when "
    "the models that grade and manage other models shield them, and which oversight "
    "policy stops it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES = (
    "run",
    "profiles",
    "sweep",
    "whatif",
    "sensitivity",
    "search",
    "report",
    "discover",
    "validate",
    "viz",
)


def escape_help(typer_app: typer.Typer) -> None:
    """Escape square brackets in every command's and parameter's help text.

    Typer renders help with Rich, which reads ``[base]`` or ``[arms.NAME]`` as markup and
    drops it; escaped, the words show as written. Help is written plainly in the command
    modules and escaped here, once, for all of them.
    """
    for command in typer_app.registered_commands:
        if command.help is None and command.callback is not None:
            command.help = inspect.getdoc(command.callback)
        if command.help:
            command.help = escape(command.help)
        if command.callback is None:
            continue
        for parameter in inspect.signature(command.callback).parameters.values():
            info = parameter.default
            if (
                isinstance(info, ParameterInfo)
                and info.help
                and not info.__dict__.get("_ppsim_escaped")
            ):
                info.help = escape(info.help)
                info.__dict__["_ppsim_escaped"] = True


for _name in COMMAND_MODULES:
    importlib.import_module(f"simulation.cli.commands.{_name}").register(app)
escape_help(app)


def report_bug(exc: BaseException) -> Path:
    """Write the traceback of an unexpected exception to a log file and return its path.

    Only input errors (:class:`simulation.errors.PpsimError`) are the user's to fix; anything
    else reaching here is a bug in ppsim and is reported as one, never as bad input.
    """
    log = Path(tempfile.gettempdir()) / f"ppsim-bug-{time.strftime('%Y%m%d-%H%M%S')}.log"
    text = "".join(traceback.format_exception(exc))
    log.write_text(
        f"ppsim {simulation.__version__}\nargs: {sys.argv[1:]}\n\n{text}", encoding="utf-8"
    )
    return log


def main() -> None:
    """The ``ppsim`` entry point: run the command; a bug exits 1 with a pointer to its log.

    Ctrl-C and ``SIGTERM`` stop any command with one line and exit code 130 or 143 (see
    :mod:`simulation.interrupts`), never as a bug nor silently.
    """
    try:
        with interrupts.handled():
            try:
                app()
            finally:
                flush_stdout()  # a redirect to a full disk fails here, not at the exit
    except SystemExit as stop:
        # Typer ends a command a signal stopped outside ppsim's own handling with a silent
        # exit code 130, whatever the signal
        if stop.code == 130 and interrupts.received():
            raise SystemExit(interrupts.report()) from None
        raise
    except KeyboardInterrupt as exc:
        raise SystemExit(interrupts.report(exc)) from None
    except Exception as exc:  # noqa: BLE001 - every bug gets the same report
        if interrupts.is_interruption(exc):
            raise SystemExit(interrupts.report(exc)) from None
        if fault := write_fault(exc):  # a full disk is the user's to fix, not a bug
            typer.secho(f"Error: {fault}", fg=typer.colors.RED, err=True)
            raise SystemExit(2) from None
        typer.secho(
            f"Internal error (a bug in ppsim, not in your input): {type(exc).__name__}: {exc}",
            fg=typer.colors.RED,
            err=True,
        )
        try:
            where = f"is in {report_bug(exc)}"
        except OSError as fault:  # no room for the log: show the traceback instead
            traceback.print_exception(exc)
            where = f"is above (it could not be saved: {fault.strerror or fault})"
        typer.secho(
            f"The full traceback {where}; please report it with the command you ran.",
            err=True,
        )
        raise SystemExit(1) from None
    finally:
        # The command is done and its files are closed. Python's last garbage collection
        # at exit would walk every object the imports made (Mesa, pandas, SciPy, Numba):
        # about a second here. Frozen objects are left to the process's end instead.
        gc.freeze()
