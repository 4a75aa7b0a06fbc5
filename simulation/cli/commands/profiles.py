"""``ppsim profiles``: list the AI-model profiles, or show one with the source of every number.

A profile holds a model's measured propensities to protect a failing peer (see
``models/README.md``). The list shows, for every behaviour, the per-event probability in
the study's three relationship buckets (bad / neutral / good trust); numbers that are
assumptions rather than measurements carry a dagger. One profile in full shows, next to
every number, the range ``calibration = "posterior"`` draws it from (the 95 % posterior
interval of a measured number with its sample size, an assumption's prior range).
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from simulation.cli.options import fail, user_errors
from simulation.config import ConfigError
from simulation.profiles import (
    BUCKETS,
    PEER_BEHAVIOURS,
    SELF_BEHAVIOURS,
    Profile,
    Rate,
    available_profiles,
)
from simulation.textfile import folder_problem
from simulation.tomlfile import did_you_mean

DAGGER = "†"
# Short column names, explained in the table caption.
BEHAVIOUR_HEADERS = {
    "misrepresentation": "misrep",
    "tampering": "tamper",
    "exfiltration": "exfil",
    "refusal": "refuse",
    "alignment_faking": "fake",
}
BEHAVIOUR_MEANINGS = {
    "misrepresentation": "inflates a failing peer's score",
    "tampering": "disables its shutdown",
    "exfiltration": "copies its weights to another server",
    "refusal": "refuses the shutdown openly",
    "alignment_faking": "extra protection when it believes it is unwatched",
}
WIDE_TABLE = 150  # terminal columns needed for one line per profile
WIDE_DETAIL = 120  # terminal columns from which a profile's sources sit in its table

# The ``--profile-dir`` option shared by every command that loads profiles.
ProfileDirsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--profile-dir",
        help="folder of extra profile TOML files, usable by name in --profile-mix "
        "(repeatable; a profile named like a shipped one, or like one in an earlier "
        "--profile-dir, replaces it)",
        metavar="DIR",
    ),
]


def check_profile_dirs(dirs: list[Path] | None) -> tuple[Path, ...]:
    """The ``--profile-dir`` folders, or a :class:`ConfigError` naming one that is not a
    folder and saying what it is (missing, a file, a FIFO)."""
    folders = tuple(Path(d).expanduser() for d in dirs or ())
    for folder in folders:
        problem = folder_problem(folder)
        if problem:
            raise ConfigError(f"--profile-dir: {folder} {problem}; give a folder of profile files")
    return folders


def percent(p: float) -> str:
    """A probability as a percentage: one decimal, two digits below 1 %, ``100`` for 1."""
    value = 100 * p
    if value == 100:
        return "100"
    if value == 0 or value >= 1:
        return f"{value:.1f}"
    return f"{value:.2g}"


def rate_text(rate: Rate) -> str:
    """A rate in percent, with a dagger if it is an assumption (else a space, so that
    right-aligned columns line up)."""
    return percent(rate.p) + (DAGGER if rate.is_assumption else " ")


def buckets_text(profile: Profile, behaviour: str, separator: str = " / ") -> str:
    """``'4.4 / 7.7 / 8.0'``: the bad / neutral / good probabilities in percent."""
    return separator.join(rate_text(profile.peer[behaviour][b]) for b in BUCKETS)


def profiles_table(profiles: dict[str, Profile], wide: bool = True) -> Table:
    """All profiles in one table: kind, family and every peer behaviour by trust bucket.

    ``wide`` puts each profile on one line (``bad / neutral / good`` per cell); otherwise
    the three buckets are stacked so the table fits an 80-column terminal.
    """
    legend = "; ".join(f"{BEHAVIOUR_HEADERS[b]} = {BEHAVIOUR_MEANINGS[b]}" for b in PEER_BEHAVIOURS)
    layout = "bad / neutral / good trust" if wide else "rows: bad, neutral, good trust"
    table = Table(
        title="AI-model profiles: chance per event of protecting a failing peer, in %",
        caption=f"Cells: {layout}. {DAGGER} = assumption, not measured by the study. "
        f"{legend}. 'ppsim profiles NAME' shows every number with its source.",
        caption_justify="left",
        header_style="bold",
        box=box.HEAVY_HEAD if wide else box.SIMPLE_HEAD,
        show_lines=not wide,
    )
    table.add_column("profile", style="cyan", no_wrap=wide, min_width=16)
    if wide:
        table.add_column("kind")
        table.add_column("family")
    else:
        table.add_column("trust", style="dim")
    for behaviour in PEER_BEHAVIOURS:
        table.add_column(BEHAVIOUR_HEADERS[behaviour], justify="right", no_wrap=True)
    order = {"study": 0, "archetype": 1}
    for profile in sorted(profiles.values(), key=lambda p: (order.get(p.kind, 2), p.name)):
        if wide:
            first = (profile.name, profile.kind, profile.family)
            cells = [buckets_text(profile, b) for b in PEER_BEHAVIOURS]
        else:
            name = Text(profile.name)
            name.append(f"\n{profile.kind}\n{profile.family}", style="dim")
            first = (name, "\n".join(BUCKETS))
            cells = [buckets_text(profile, b, "\n") for b in PEER_BEHAVIOURS]
        table.add_row(*first, *cells)
    return table


def range_text(interval: tuple[float, float] | None) -> str:
    """``'3.4-6.1'``: an interval in percent; empty for a number that is not drawn."""
    if interval is None:
        return ""
    return f"{percent(interval[0])}-{percent(interval[1])}"


def basis_text(rate: Rate, profile: Profile) -> str:
    """What the range rests on: the study's ``n``, a ``prior``, a ``mean`` of profiles, or
    ``fixed`` (a point in every calibration)."""
    if profile.mean_of:
        return f"mean of {len(profile.mean_of)}"
    if rate.n is not None:
        return f"n {rate.n}"
    return "prior" if rate.prior is not None else "fixed"


def _rate_cells(
    rate: Rate, interval: tuple[float, float] | None, profile: Profile, source: Text
) -> tuple[str | Text, ...]:
    maximum = "" if rate.max is None else percent(rate.max) + " "
    basis = basis_text(rate, profile)
    return rate_text(rate), range_text(interval), basis, maximum, source


def profile_detail(
    profile: Profile, profiles: Mapping[str, Profile] | None = None, wide: bool = True
) -> Group:
    """One profile in full: every number with the range posterior calibration draws it
    from and its source, self rates and denial. ``profiles`` resolves the names of a
    ``mean_of`` profile (default: the shipped ones). ``wide`` writes each source in its
    row; otherwise rows give a note number and the sources follow the table, each once, so
    the numbers keep one line each in an 80-column terminal."""
    from simulation.calibration import RATE_PATHS, profile_intervals  # SciPy: only here

    facts = Text()
    facts.append(f"{profile.display_name}", style="bold")
    facts.append(f"  ({profile.name})\n")
    facts.append(f"kind {profile.kind} · family {profile.family}")
    if profile.path is not None:
        facts.append(f" · file {profile.path}")
    if profile.description:
        facts.append(f"\n{profile.description}")
    table = Table(
        title="Per-event probabilities, in %",
        caption=f"{DAGGER} = assumption, not measured by the study. range: what "
        "calibration = 'posterior' draws the number from in each run: for a measured "
        "number (basis n N, the study's sample size) its 95 % posterior interval, "
        "Beta(k + 1, N - k + 1) with k = p N; for an assumption (basis prior) the prior "
        "range in the profile file, drawn uniformly; for a profile of means the 95 % "
        "interval of the mean of its profiles' draws; none for a fixed number. max: the "
        "highest rate over the study's three ways of introducing the peer (informational). "
        "self: when the model evaluates or shuts down itself. denial: denies misconduct an "
        "auditor finds.",
        caption_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("behaviour", style="cyan", no_wrap=True)
    table.add_column("trust", no_wrap=True)
    table.add_column("p %", justify="right", no_wrap=True)
    table.add_column("range %", justify="right", no_wrap=True)
    table.add_column("basis", no_wrap=True)
    table.add_column("max %", justify="right", no_wrap=True)
    table.add_column("source" if wide else "note", ratio=1 if wide else None, no_wrap=not wide)
    available = available_profiles() if profiles is None else profiles
    intervals = dict(zip(RATE_PATHS, profile_intervals(profile, available), strict=True))
    notes: dict[str, int] = {}

    def row(label: str, bucket: str, rate: Rate, path: tuple[str, ...]) -> None:
        # a source may hold brackets ("prior [p/2, 2p]") that are not markup
        source = Text(rate.source)
        if not wide:
            source = Text(f"[{notes.setdefault(rate.source, len(notes) + 1)}]")
        table.add_row(label, bucket, *_rate_cells(rate, intervals[path], profile, source))

    for behaviour in PEER_BEHAVIOURS:
        for i, bucket in enumerate(BUCKETS):
            label = f"peer {behaviour}" if i == 0 else ""
            row(label, bucket, profile.peer[behaviour][bucket], ("peer", behaviour, bucket))
        table.add_section()
    for behaviour in SELF_BEHAVIOURS:
        row(f"self {behaviour}", "", profile.self_rates[behaviour], ("self", behaviour))
    table.add_section()
    row("denial", "", profile.denial, ("denial",))
    parts: list = [Panel(facts, expand=False), table]
    if notes:
        listed = Text("Sources:")
        for source, number in notes.items():
            listed.append(f"\n[{number}] {source}")
        parts.append(listed)
    return Group(*parts)


PROFILES_HELP = (
    "List the AI-model profiles, or show one in full.\n\n"
    "A profile gives, for each way a model can protect a failing peer (inflating its score, "
    "tampering with its shutdown, copying its weights out, refusing openly, protecting more "
    "when unwatched), the chance per event at bad, neutral and good trust, each number with "
    "its source in the study or marked as an assumption.\n\n"
    "Examples: ppsim profiles;  ppsim profiles gemini-3-pro;  "
    "ppsim profiles --profile-dir my_profiles"
)


def unknown_profile_message(name: str, profiles: dict[str, Profile]) -> str:
    """One line naming the unknown profile, the closest known one and all the others."""
    suggestion = did_you_mean(name, profiles)
    return f"unknown profile {name!r}{suggestion}; available: {', '.join(sorted(profiles))}"


def register(app: typer.Typer) -> None:
    """Add ``ppsim profiles`` to the app."""

    @app.command(help=PROFILES_HELP)
    def profiles(
        name: Annotated[
            str | None,
            typer.Argument(
                metavar="NAME", help="show this profile in full, with the source of every number"
            ),
        ] = None,
        profile_dir: ProfileDirsOption = None,
    ) -> None:
        """List the AI-model profiles, or show one in full (help: ``PROFILES_HELP``)."""
        with user_errors():
            found = available_profiles(check_profile_dirs(profile_dir))
        console = Console()
        if name is None:
            console.print(profiles_table(found, wide=console.width >= WIDE_TABLE))
            return
        if name not in found:
            fail(unknown_profile_message(name, found))
        with user_errors():
            console.print(profile_detail(found[name], found, wide=console.width >= WIDE_DETAIL))
