"""What a refused command must look like, shared by the hardening tests: exit code 2, no
traceback and no "Internal error", and one line on stderr starting with "Error: "."""

from __future__ import annotations


def one_line_error(result) -> str:
    """The single error line of a refused command; the note that the engine compiles,
    which the first run of a fresh checkout prints, aside."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Internal error" not in result.output
    lines = [
        line
        for line in result.stderr.strip().splitlines()
        if not line.startswith("compiling the engine")
    ]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]
