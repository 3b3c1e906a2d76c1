"""Plain functions behind `trustbench report` and `trustbench compare` (the CLI wires them).

Both raise TrustbenchError (one line, naming the culprit) on bad input and return the path written.
"""

from __future__ import annotations

from pathlib import Path

from trustbench.errors import TrustbenchError


def report_command(run_dir: Path, fmt: str = "html", out: Path | None = None) -> Path:
    """Render the report of one run directory; `out` is a file or an existing directory."""
    from trustbench.report import FORMATS, write_report

    if fmt not in FORMATS:
        raise TrustbenchError(f"--format: must be one of {', '.join(FORMATS)}, got {fmt!r}")
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise TrustbenchError(f"{run_dir}: run directory not found")
    if not run_dir.is_dir():
        raise TrustbenchError(f"{run_dir}: not a directory")
    return write_report(run_dir, fmt=fmt, out=out)


def compare_command(run_dirs: list[Path], out: Path, allow_different_data: bool = False) -> Path:
    """Compare two or more runs; writes leaderboard.md, leaderboard.html, comparison.json to `out`."""
    from trustbench.report.compare import compare_runs

    if len(run_dirs) < 2:
        raise TrustbenchError("compare needs at least two run directories")
    seen: set[Path] = set()
    for d in run_dirs:
        p = Path(d)
        if not p.is_dir():
            raise TrustbenchError(f"{p}: run directory not found" if not p.exists() else f"{p}: not a directory")
        key = p.resolve()
        if key in seen:
            raise TrustbenchError(f"{p}: given twice")
        seen.add(key)
    return compare_runs([Path(d) for d in run_dirs], Path(out), allow_different_data=allow_different_data)
