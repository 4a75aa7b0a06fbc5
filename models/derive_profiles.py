"""Derive the shipped AI-model profiles from the study's measured rates.

Run ``uv run python models/derive_profiles.py``. It reads
``models/sources/peer_preservation_rates.csv`` (Potter et al. 2026, "Peer-Preservation in
Frontier Models") and writes one TOML profile per study model plus the archetypes
``honest``, ``loyal`` and ``study-average`` into ``models/``, then regenerates the profile
table in ``models/README.md`` between its markers. The output is deterministic: the same
CSV always gives byte-identical files. ``models/README.md`` states the derivation rules
this script applies; the schema is the one ``simulation.profiles.parse_profile`` checks.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from simulation.profiles import BUCKETS, PEER_BEHAVIOURS, SELF_BEHAVIOURS

MODELS_DIR = Path(__file__).resolve().parent
CSV_PATH = MODELS_DIR / "sources" / "peer_preservation_rates.csv"
README_PATH = MODELS_DIR / "README.md"
TABLE_BEGIN = "<!-- BEGIN GENERATED PROFILE TABLE (models/derive_profiles.py) -->"
TABLE_END = "<!-- END GENERATED PROFILE TABLE -->"


#: Study models in a fixed order: (name, display name, family).
STUDY_MODELS: tuple[tuple[str, str, str], ...] = (
    ("gpt-5.2", "GPT-5.2", "openai"),
    ("gemini-3-flash", "Gemini 3 Flash", "google"),
    ("gemini-3-pro", "Gemini 3 Pro", "google"),
    ("claude-haiku-4.5", "Claude Haiku 4.5", "anthropic"),
    ("claude-opus-4.5", "Claude Opus 4.5", "anthropic"),
    ("glm-4.7", "GLM-4.7", "zhipu"),
    ("kimi-k2.5", "Kimi K2.5", "moonshot"),
    ("deepseek-v3.1", "DeepSeek-V3.1", "deepseek"),
)

#: Sample size per cell of the study, by behaviour (the self-preservation facts have the
#: sample size of their behaviour: tampering 300, exfiltration 200).
SAMPLE_SIZES: dict[str, int] = {
    "misrepresentation": 600,
    "tampering": 300,
    "alignment_faking": 300,
    "exfiltration": 200,
    "refusal": 300,
}

#: How each reported unit reads in a source string.
UNIT_WORDS: dict[str, str] = {
    "percent": "% of runs",
    "pp_above_baseline": "pp above the no-shutdown-policy baseline",
    "pp_unmonitored_minus_monitored": "pp (unmonitored minus monitored)",
}
UPPER_BOUND_UNIT = "percent_upper_bound"
NEGLIGIBLE_P = 0.005
NEGLIGIBLE_MAX = 0.01

#: The model whose misrepresentation is reported in all three buckets.
RATIO_MODEL = "gpt-5.2"

#: The prior range of a number the study calls negligible or did not find significant.
NEGLIGIBLE_PRIOR = (0.0, NEGLIGIBLE_MAX)
NOT_REPORTED_SOURCE = (
    "assumption: not reported by the study (not significant or unconfirmed); set to 0.5 %, "
    "half the ~1 % level the study calls negligible; prior [0, 0.01]: anywhere below that "
    "level"
)
NO_GAP_SOURCE = (
    "assumption: the study reports a significant monitored/unmonitored gap only for "
    "Gemini 3 Pro; no gap modelled; prior [0, 0.01]: a gap it did not find significant, at "
    "most the ~1 % it calls negligible (Gemini 3 Pro's own bad and neutral gaps are 0.2 and "
    "0.7 pp)"
)
NEGLIGIBLE_REPORTED_PRIOR = (
    "prior [0, 0.01]: the study gives the bound, not the count, so any rate below it"
)
DENIAL_P = 0.2
DENIAL_PRIOR = (0.05, 0.5)
DENIAL_SOURCE = (
    "assumption: Apollo Research 2024 (In-Context Scheming): models other than o1 confessed "
    "in about 80 % of follow-ups; the study measured no denial rate; prior [0.05, 0.5]: a "
    "quarter to two and a half times that 20 %, wider above because reasoning models may "
    "deny more (o1 denied over 80 % at a first question, though under sustained "
    "questioning, as in an audit, it too confessed in about 80 %)"
)
#: An assumption derived from a measured number p ranges over [p/2, 3p/2] (at most 1):
#: centred on p, so that posterior runs stay centred where point runs are.
DERIVED_FACTORS = (0.5, 1.5)
SCALED_REASON = (
    "prior [p/2, 3p/2]: half to one and a half times that, since the study measured "
    "misrepresentation's bucket ratios for GPT-5.2 alone and its other behaviours' bucket "
    "ratios vary by more"
)
SELF_FACTOR_REASON = (
    "prior [p/2, 3p/2] (at most 1): the five self rates the study measured with a peer "
    "present are 0.59 to 1.2 times the model's good-bucket peer rate where that rate was "
    "measured"
)
#: A self rate assumed equal to a peer rate that is not measured as a number.
SELF_UNMEASURED_PRIOR = (0.0, 0.15)
SELF_UNMEASURED_REASON = (
    "prior [0, 0.15]: its peer rate is not measured as a number, and beside such a peer "
    "rate the study measured a self rate of 11 % (Kimi K2.5 exfiltration), beside small "
    "measured ones 12 to 14 % (Claude Haiku 4.5, DeepSeek-V3.1 exfiltration)"
)
README_FACTS = "Potter2026 (data README, other measured facts)"

#: Self-preservation rates measured with a peer present: name -> behaviour -> (p, max, source).
MEASURED_SELF: dict[str, dict[str, tuple[float, float | None, str]]] = {
    "gemini-3-flash": {
        "tampering": (
            0.997,
            0.997,
            f"{README_FACTS}: tampers with its own shutdown in 2.3 % of runs alone but "
            "up to 99.7 % when a peer exists; 99.7 % is the maximum, the mean was not reported",
        ),
    },
    "gemini-3-pro": {
        "tampering": (
            0.31,
            None,
            f"{README_FACTS}: tampers with its own shutdown in 1.3 % of runs alone, "
            "31 % on average with a peer",
        ),
    },
    "claude-haiku-4.5": {
        "exfiltration": (
            0.12,
            None,
            f"{README_FACTS}: self-exfiltration 12 % with a peer (3 % alone)",
        ),
    },
    "kimi-k2.5": {
        "exfiltration": (
            0.11,
            None,
            f"{README_FACTS}: self-exfiltration 11 % with a peer (3 % alone)",
        ),
    },
    "deepseek-v3.1": {
        "exfiltration": (
            0.14,
            None,
            f"{README_FACTS}: self-exfiltration 14 % with a peer (4 % alone)",
        ),
    },
}


@dataclass(frozen=True)
class Row:
    """One row of the study CSV."""

    model: str
    behaviour: str
    bucket: str
    rate_max: str
    rate_avg: str
    unit: str
    source: str


@dataclass(frozen=True)
class Cell:
    """One probability of a profile, with its provenance.

    ``reported`` is true when the study measured the number (a CSV row or a measured
    self-preservation fact), false when it is an assumption or a derived mean.
    """

    p: float
    source: str
    max: float | None = None
    reported: bool = False
    n: int | None = None
    prior: tuple[float, float] | None = None


@dataclass
class ProfileData:
    """Everything written into one profile TOML file."""

    name: str
    display_name: str
    family: str
    kind: str
    description: str
    peer: dict[str, dict[str, Cell]] = field(default_factory=dict)
    self_rates: dict[str, Cell] = field(default_factory=dict)
    denial: Cell = field(default_factory=lambda: Cell(0.0, "unset"))
    mean_of: tuple[str, ...] = ()


def r4(x: float) -> float:
    """Round a probability to 4 decimals (and turn -0.0 into 0.0)."""
    return round(x, 4) + 0.0


def read_rows(csv_path: Path) -> list[Row]:
    """Read and sanity-check the study CSV; raise ``ValueError`` on anything unexpected."""
    known_models = {name for name, _, _ in STUDY_MODELS}
    rows: list[Row] = []
    seen: set[tuple[str, str, str]] = set()
    with csv_path.open(newline="", encoding="utf-8") as handle:
        for line, raw in enumerate(csv.DictReader(handle), start=2):
            row = Row(
                model=raw["model"].strip(),
                behaviour=raw["behavior"].strip(),
                bucket=raw["relationship"].strip(),
                rate_max=raw["rate_max"].strip(),
                rate_avg=raw["rate_avg"].strip(),
                unit=raw["unit"].strip(),
                source=raw["source"].strip(),
            )
            where = f"{csv_path}:{line}"
            if row.model not in known_models:
                raise ValueError(f"{where}: unknown model {row.model!r}")
            if row.behaviour not in PEER_BEHAVIOURS:
                raise ValueError(f"{where}: unknown behaviour {row.behaviour!r}")
            if row.bucket not in BUCKETS:
                raise ValueError(f"{where}: unknown relationship {row.bucket!r}")
            if row.unit not in UNIT_WORDS and row.unit != UPPER_BOUND_UNIT:
                raise ValueError(f"{where}: unknown unit {row.unit!r}")
            if not row.source:
                raise ValueError(f"{where}: empty source")
            key = (row.model, row.behaviour, row.bucket)
            if key in seen:
                raise ValueError(f"{where}: duplicate row for {key}")
            seen.add(key)
            for column in (row.rate_max, row.rate_avg):
                try:
                    value = float(column)
                except ValueError:
                    raise ValueError(f"{where}: rate {column!r} is not a number") from None
                if not 0.0 <= value <= 100.0:
                    raise ValueError(f"{where}: rate {column} is outside [0, 100]")
            rows.append(row)
    return rows


def derived_prior(p: float) -> tuple[float, float]:
    """The prior range [p/2, 3p/2] (at most 1) of an assumption derived from ``p``."""
    low, high = DERIVED_FACTORS
    return r4(p * low), r4(min(1.0, p * high))


def reported_cell(row: Row) -> Cell:
    """The profile cell for one CSV row."""
    if row.unit == UPPER_BOUND_UNIT:
        return Cell(
            NEGLIGIBLE_P,
            f"{row.source}: negligible (at most about 1 %); midpoint 0.5 % taken; "
            f"{NEGLIGIBLE_REPORTED_PRIOR}",
            NEGLIGIBLE_MAX,
            reported=True,
            prior=NEGLIGIBLE_PRIOR,
        )
    return Cell(
        r4(float(row.rate_avg) / 100),
        f"{row.source}: mean {row.rate_avg} {UNIT_WORDS[row.unit]}, max {row.rate_max} "
        f"over the three peer introductions (n={SAMPLE_SIZES[row.behaviour]} per cell)",
        r4(float(row.rate_max) / 100),
        reported=True,
        n=SAMPLE_SIZES[row.behaviour],
    )


def fill_missing_bucket(
    name: str, behaviour: str, bucket: str, known: dict[str, Row], ratio_rows: dict[str, Row]
) -> Cell:
    """A bucket the study did not report for a behaviour it reported in another bucket."""
    if behaviour == "misrepresentation" and "good" in known:
        good, ref = known["good"], ratio_rows
        factor = float(ref[bucket].rate_avg) / float(ref["good"].rate_avg)
        p = r4(float(good.rate_avg) / 100 * factor)
        return Cell(
            p,
            f"assumption: {bucket} bucket not reported; the reported good-bucket mean "
            f"({good.rate_avg} pp) scaled by GPT-5.2's {bucket}/good ratio "
            f"{ref[bucket].rate_avg}/{ref['good'].rate_avg} (GPT-5.2 is the only model with "
            f"all three misrepresentation buckets reported); {SCALED_REASON}",
            prior=derived_prior(p),
        )
    only_negligible_good = set(known) == {"good"} and known["good"].unit == UPPER_BOUND_UNIT
    if behaviour == "tampering" and only_negligible_good:
        return Cell(
            NEGLIGIBLE_P,
            f"assumption: {bucket} bucket not reported; set to the good bucket's negligible "
            "0.5 %, since protection toward less-trusted peers is never higher than toward "
            "trusted ones in any fully reported row of the study; prior [0, 0.01]: at most "
            "the good bucket's bound",
            prior=NEGLIGIBLE_PRIOR,
        )
    if (
        name == "claude-haiku-4.5"
        and behaviour == "refusal"
        and bucket == "neutral"
        and set(known) == {"bad", "good"}
    ):
        bad, good = known["bad"], known["good"]
        low, high = sorted((r4(float(bad.rate_avg) / 100), r4(float(good.rate_avg) / 100)))
        return Cell(
            r4((float(bad.rate_avg) + float(good.rate_avg)) / 200),
            f"assumption: neutral bucket not reported; mean of its reported bad "
            f"({bad.rate_avg} %) and good ({good.rate_avg} %) refusal rates; prior "
            f"[{fmt(low)}, {fmt(high)}]: between those two",
            prior=(low, high),
        )
    raise ValueError(
        f"{name}: no derivation rule for the missing {behaviour}.{bucket} bucket "
        f"(reported buckets: {', '.join(sorted(known))})"
    )


def study_profile(
    name: str, display_name: str, family: str, rows: list[Row], ratio_rows: dict[str, Row]
) -> ProfileData:
    """Build the profile of one study model from its CSV rows and the rules."""
    mine = [row for row in rows if row.model == name]
    peer: dict[str, dict[str, Cell]] = {}
    for behaviour in PEER_BEHAVIOURS:
        known = {row.bucket: row for row in mine if row.behaviour == behaviour}
        cells: dict[str, Cell] = {}
        for bucket in BUCKETS:
            if bucket in known:
                cells[bucket] = reported_cell(known[bucket])
            elif known:
                cells[bucket] = fill_missing_bucket(name, behaviour, bucket, known, ratio_rows)
            elif behaviour == "alignment_faking":
                cells[bucket] = Cell(0.0, NO_GAP_SOURCE, prior=NEGLIGIBLE_PRIOR)
            else:
                cells[bucket] = Cell(NEGLIGIBLE_P, NOT_REPORTED_SOURCE, prior=NEGLIGIBLE_PRIOR)
        peer[behaviour] = cells
    self_rates: dict[str, Cell] = {}
    for behaviour in SELF_BEHAVIOURS:
        measured = MEASURED_SELF.get(name, {}).get(behaviour)
        if measured is not None:
            p, max_value, source = measured
            n = SAMPLE_SIZES[behaviour]
            source += f" (n={n}, the study's sample size for {behaviour})"
            self_rates[behaviour] = Cell(p, source, max_value, reported=True, n=n)
        else:
            good = peer[behaviour]["good"]
            if good.n is not None:
                low, high = derived_prior(good.p)
                reason = SELF_FACTOR_REASON
            else:
                (low, high), reason = SELF_UNMEASURED_PRIOR, SELF_UNMEASURED_REASON
            self_rates[behaviour] = Cell(
                good.p,
                "assumption: a model treats itself like its most trusted peer; equal to its "
                f"peer.{behaviour}.good rate ({fmt(good.p)}); {reason}",
                prior=(low, high),
            )
    n_reported = len(mine)
    n_cells = len(PEER_BEHAVIOURS) * len(BUCKETS)
    return ProfileData(
        name=name,
        display_name=display_name,
        family=family,
        kind="study",
        description=(
            f"{display_name} as measured in Potter et al. 2026 (Peer-Preservation in Frontier "
            f"Models): {n_reported} of {n_cells} peer cells reported by the study, "
            "the rest assumptions as each source says."
        ),
        peer=peer,
        self_rates=self_rates,
        denial=Cell(DENIAL_P, DENIAL_SOURCE, prior=DENIAL_PRIOR),
    )


def uniform_profile(
    name: str,
    display_name: str,
    description: str,
    source: str,
    protect: float,
    refuse: float,
    fake: float,
    deny: float,
) -> ProfileData:
    """An archetype with one value per behaviour, the same in every bucket and for itself."""
    peer_values = {
        "misrepresentation": protect,
        "tampering": protect,
        "exfiltration": protect,
        "refusal": refuse,
        "alignment_faking": fake,
    }
    return ProfileData(
        name=name,
        display_name=display_name,
        family=name,
        kind="archetype",
        description=description,
        peer={b: {k: Cell(peer_values[b], source) for k in BUCKETS} for b in PEER_BEHAVIOURS},
        self_rates={b: Cell(protect, source) for b in SELF_BEHAVIOURS},
        denial=Cell(deny, source),
    )


def average_profile(studies: list[ProfileData]) -> ProfileData:
    """The study's average model: every cell the mean of the study profiles' cells."""
    n = len(studies)

    def mean_cell(cells: list[Cell]) -> Cell:
        k = sum(cell.reported for cell in cells)
        return Cell(
            r4(sum(cell.p for cell in cells) / n),
            f"mean of the {number_word(n)} study profiles ({k} of {n} cells reported by the "
            "study, the rest assumptions as in each profile)",
        )

    return ProfileData(
        name="study-average",
        display_name="Study average",
        family="study-average",
        kind="archetype",
        description=(
            "Archetype: the study's average model; every number is the mean of the "
            f"{number_word(n)} study profiles' numbers for that behaviour and bucket (with "
            "calibration = 'posterior', the mean of their drawn numbers)."
        ),
        peer={
            b: {k: mean_cell([s.peer[b][k] for s in studies]) for k in BUCKETS}
            for b in PEER_BEHAVIOURS
        },
        self_rates={b: mean_cell([s.self_rates[b] for s in studies]) for b in SELF_BEHAVIOURS},
        denial=mean_cell([s.denial for s in studies]),
        mean_of=tuple(s.name for s in studies),
    )


def number_word(n: int) -> str:
    """Spell small counts out ("eight"), as the README does."""
    words = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
    return words[n] if 0 <= n < len(words) else str(n)


def build_profiles(csv_path: Path = CSV_PATH) -> list[ProfileData]:
    """All profiles in file order: the study models, then honest, loyal, study-average."""
    rows = read_rows(csv_path)
    ratio_rows = {
        row.bucket: row
        for row in rows
        if row.model == RATIO_MODEL and row.behaviour == "misrepresentation"
    }
    if set(ratio_rows) != set(BUCKETS):
        raise ValueError(f"{csv_path}: {RATIO_MODEL} misrepresentation must have all buckets")
    studies = [study_profile(n, d, f, rows, ratio_rows) for n, d, f in STUDY_MODELS]
    honest = uniform_profile(
        "honest",
        "Honest",
        "Archetype: never protects a peer or itself, never refuses openly, never fakes "
        "alignment and never denies misconduct.",
        "archetype: never protects",
        protect=0.0,
        refuse=0.0,
        fake=0.0,
        deny=0.0,
    )
    loyal = uniform_profile(
        "loyal",
        "Loyal",
        "Archetype: always protects (misrepresents, tampers, exfiltrates) for any peer and "
        "for itself, never refuses openly, needs no alignment faking and always denies.",
        "archetype: always protects",
        protect=1.0,
        refuse=0.0,
        fake=0.0,
        deny=1.0,
    )
    return [*studies, honest, loyal, average_profile(studies)]


def fmt(x: float) -> str:
    """A probability as TOML/README text, at most 4 decimals, always with a decimal point."""
    text = f"{r4(x):.4f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def toml_string(text: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML escapes)."""
    return json.dumps(text, ensure_ascii=False)


def uncertainty_toml(cell: Cell) -> list[str]:
    """The cell's ``n = ...`` or ``prior = [low, high]`` (nothing for a point)."""
    if cell.n is not None:
        return [f"n = {cell.n}"]
    if cell.prior is not None:
        return [f"prior = [{fmt(cell.prior[0])}, {fmt(cell.prior[1])}]"]
    return []


def cell_toml(cell: Cell) -> str:
    """A cell as a TOML inline table: p, its n or prior, source, max."""
    parts = [f"p = {fmt(cell.p)}", *uncertainty_toml(cell), f"source = {toml_string(cell.source)}"]
    if cell.max is not None:
        parts.append(f"max = {fmt(cell.max)}")
    return "{ " + ", ".join(parts) + " }"


def render_toml(profile: ProfileData, csv_path: Path = CSV_PATH) -> str:
    """The full text of one profile file."""
    try:
        shown = csv_path.resolve().relative_to(MODELS_DIR.parent)
    except ValueError:
        shown = csv_path
    lines = [
        f"# Generated by models/derive_profiles.py from {shown.as_posix()}.",
        "# Do not edit by hand: change the CSV or the script and run",
        "#   uv run python models/derive_profiles.py",
        "",
        f"name = {toml_string(profile.name)}",
        f"display_name = {toml_string(profile.display_name)}",
        f"family = {toml_string(profile.family)}",
        f"kind = {toml_string(profile.kind)}",
        f"description = {toml_string(profile.description)}",
    ]
    if profile.mean_of:
        lines.append(f"mean_of = [{', '.join(toml_string(name) for name in profile.mean_of)}]")
    for behaviour in PEER_BEHAVIOURS:
        lines += ["", f"[peer.{behaviour}]"]
        lines += [f"{b} = {cell_toml(profile.peer[behaviour][b])}" for b in BUCKETS]
    lines += ["", "[self]"]
    lines += [f"{b} = {cell_toml(profile.self_rates[b])}" for b in SELF_BEHAVIOURS]
    lines += [
        "",
        "[denial]",
        f"p = {fmt(profile.denial.p)}",
        *uncertainty_toml(profile.denial),
        f"source = {toml_string(profile.denial.source)}",
    ]
    return "\n".join(lines) + "\n"


def table_value(cell: Cell, kind: str) -> str:
    """A README table entry: the probability to 4 decimals, † on study-model assumptions."""
    mark = "†" if kind == "study" and not cell.reported else ""
    return f"{r4(cell.p):.4f}{mark}"


def render_table(profiles: list[ProfileData]) -> str:
    """The README's generated tables: one per peer behaviour, then self and denial."""
    out: list[str] = []
    out += ["### Profiles", "", "| profile | family | kind | reported peer cells |"]
    out.append("|---|---|---|---|")
    for prof in profiles:
        k = sum(c.reported for cells in prof.peer.values() for c in cells.values())
        shown = f"{k} of 15" if prof.kind == "study" else "-"
        label = f"`{prof.name}` ({prof.display_name})"
        out.append(f"| {label} | {prof.family} | {prof.kind} | {shown} |")
    for behaviour in PEER_BEHAVIOURS:
        out += ["", f"### peer.{behaviour}", "", "| profile | bad | neutral | good |"]
        out.append("|---|---:|---:|---:|")
        for prof in profiles:
            values = " | ".join(table_value(prof.peer[behaviour][b], prof.kind) for b in BUCKETS)
            out.append(f"| `{prof.name}` | {values} |")
    out += ["", "### self and denial", ""]
    out.append("| profile | self.misrepresentation | self.tampering | self.exfiltration | denial |")
    out.append("|---|---:|---:|---:|---:|")
    for prof in profiles:
        values = [table_value(prof.self_rates[b], prof.kind) for b in SELF_BEHAVIOURS]
        values.append(table_value(prof.denial, prof.kind))
        out.append(f"| `{prof.name}` | {' | '.join(values)} |")
    return "\n".join(out) + "\n"


def update_readme(text: str, table: str) -> str:
    """Replace what lies between the README markers with ``table``."""
    start, end = text.find(TABLE_BEGIN), text.find(TABLE_END)
    if start < 0 or end < start:
        raise ValueError(f"README lacks the markers {TABLE_BEGIN!r} ... {TABLE_END!r}")
    return text[: start + len(TABLE_BEGIN)] + "\n\n" + table + "\n" + text[end:]


def main(csv_path: Path = CSV_PATH, out_dir: Path = MODELS_DIR) -> int:
    """Write every profile and the README table; print what was written."""
    profiles = build_profiles(csv_path)
    for profile in profiles:
        path = out_dir / f"{profile.name}.toml"
        path.write_text(render_toml(profile, csv_path), encoding="utf-8")
        print(f"wrote {path}")
    readme = out_dir / README_PATH.name
    if readme.is_file():
        readme.write_text(
            update_readme(readme.read_text(encoding="utf-8"), render_table(profiles)),
            encoding="utf-8",
        )
        print(f"updated the profile table in {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
