"""Digest of the results of a fixed set of runs, sweeps, what-ifs and validation checks.

A refactor that must not change results runs this before and after and compares the two
lines per case: equal digests mean every stored number is identical on the same seeds.

    uv run python benchmarks/fingerprint.py > before.txt
    # ... change the code ...
    uv run python benchmarks/fingerprint.py > after.txt && diff before.txt after.txt
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

TIMING = {"wall_time_seconds", "finished_at", "wall_time_s", "cpu_time_s"}
TIMING |= {"elapsed_seconds", "seconds_by_family", "command"}
SMALL = ["--set", "n_systems=300", "--set", "steps=40"]
RUNS = {
    "run-default": ["run", "--seed", "1", "--steps", "60"],
    "run-abstract": ["run", "--seed", "2", "--steps", "60", "--propensity", "0.3"],
    "run-threshold": [
        "run",
        "--seed",
        "3",
        "--steps",
        "60",
        "--set",
        "contagion=threshold",
        "--set",
        "stand_in=reassign",
        "--set",
        "shutdown_channels=largest",
    ],
    "run-ba": ["run", "--seed", "4", "--steps", "60", "--topology", "barabasi-albert"],
}
STUDIES = {
    "sweep": ["sweep", "experiments/propensity-by-audit.toml", *SMALL, "--replicates", "1"],
    "whatif": ["whatif", "experiments/oversight-whatif.toml", *SMALL, "--replicates", "1"],
    "sweep-cli": [
        "sweep",
        "--vary",
        "audit_rate=0:0.4:3",
        "--vary",
        "propensity=0,0.5",
        "--replicates",
        "2",
        *SMALL,
    ],
}


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def ppsim(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["uv", "run", "ppsim", *args], capture_output=True, text=True, check=True)


def table_digest(folder: Path) -> str:
    """Digest of every stored table in ``folder``: the parts of each sub-folder's table read
    as one (part files are named by time), timing columns dropped, rows sorted."""
    parts = []
    for table in sorted({path.parent for path in folder.rglob("*.parquet")}):
        frame = pd.concat([pd.read_parquet(path) for path in sorted(table.glob("*.parquet"))])
        frame = frame.drop(columns=[c for c in frame.columns if c in TIMING])
        frame = frame.reindex(sorted(frame.columns), axis=1)
        frame = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        parts.append(f"{table.relative_to(folder)}:{frame.to_csv(index=False)}")
    return digest("".join(parts).encode())


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, args in RUNS.items():
            summary = json.loads(ppsim([*args, "--json", "-q"]).stdout)
            summary = {k: v for k, v in summary.items() if k not in TIMING}
            print(name, digest(json.dumps(summary, sort_keys=True).encode()), flush=True)
            out = root / name
            ppsim([*args, "--out", str(out), "-q"])
            print(f"{name}-timeseries", table_digest(out), flush=True)
        for name, args in STUDIES.items():
            out = root / name
            ppsim([*args, "--out", str(out), "--workers", "2", "--no-report"])
            print(name, table_digest(out), flush=True)
        out = root / "validation"
        result = subprocess.run(
            ["uv", "run", "ppsim", "validate", "--out", str(out)], capture_output=True
        )
        checks = json.loads((out / "validation.json").read_text())
        checks = {k: v for k, v in checks.items() if k not in TIMING}
        print("validate", result.returncode, digest(json.dumps(checks, sort_keys=True).encode()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
