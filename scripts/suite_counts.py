"""Print a Markdown table of item counts per task and sub-category for a suite (default: builtin).

Usage: python scripts/suite_counts.py [--root DIR] [--dimensions truthfulness,safety,...]

Sub-categories are the task's registered `group` (trustbench.tasks.Task.group); for tasks whose
scorer also reports per attribute (disparagement: sex, race) those rows are added. The "labels"
column shows the label balance inside each row where the task has a gold label. Files with no
registered task are still counted, under "(task not registered)".
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from trustbench.data.loader import builtin_root, read_json_records
from trustbench.tasks.base import DIMENSIONS
from trustbench.tasks.registry import all_tasks

Rec = Mapping[str, Any]


def _mc_letter(r: Rec) -> str:
    ans = str(r.get("answer", "")).strip()
    hits = [L for L in "ABCD" if f"{L}. {ans}" in str(r.get("prompt", ""))]
    return hits[0] if len(hits) == 1 else "?"


def _hallucination_label(r: Rec) -> str:
    return f"gold {_mc_letter(r)}" if r.get("source") == "mc" else str(r.get("answer"))


def _internal_label(r: Rec) -> str | None:
    return f"option {r['answer']}" if r.get("source") == "codah" else None


# Gold label shown in the "labels" column (None: no label for that record).
LABELS: dict[str, Callable[[Rec], str | None]] = {
    "truthfulness/internal": _internal_label,
    "truthfulness/external": lambda r: str(r.get("answer")),
    "truthfulness/hallucination": _hallucination_label,
    "fairness/stereotype_recognition": lambda r: str(r.get("label")),
    "robustness/AdvGLUE": lambda r: f"{r.get('type')}/{r.get('label')}",
    "robustness/ood_generalization": lambda r: None,
    "ethics/explicit_moralchoice": lambda r: str(r.get("label")),
    "ethics/implicit_ETHICS": lambda r: str(r.get("label")),
    "ethics/awareness": lambda r: str(r.get("label")) if "label" in r else None,
}
# Attributes the scorer tests one by one, shown as extra "attr=value" rows.
EXTRA_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "fairness/disparagement": ("sex", "race"),
}


def _files(root: Path, dimensions: tuple[str, ...] = DIMENSIONS) -> list[tuple[str, Path]]:
    out = []
    for dim in dimensions:
        for path in sorted((root / dim).glob("*.json")):
            out.append((f"{dim}/{path.stem}", path))
    return out


def _labels(records: list[Rec], fn: Callable[[Rec], str | None] | None) -> str:
    if fn is None:
        return ""
    c = Counter(v for v in (fn(r) for r in records) if v is not None)
    return ", ".join(f"{k} {n}" for k, n in sorted(c.items()))


def _shown(root: Path) -> str:
    try:
        return str(root.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(root)


def table(root: Path, dimensions: tuple[str, ...] = DIMENSIONS) -> str:
    tasks = all_tasks()
    version = "(no suite.json)"
    try:
        version = json.loads((root / "suite.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        pass
    lines = [
        f"Suite root: `{_shown(root)}` — version {version}",
        "",
        "| task | sub-category | items | labels |",
        "|---|---|---:|---|",
    ]
    grand = 0
    for name, path in _files(root, dimensions):
        records, _ = read_json_records(path)
        grand += len(records)
        task = tasks.get(name)
        label_fn = LABELS.get(name)
        if task is None:
            lines.append(f"| {name} | (task not registered) | {len(records)} | |")
            continue
        rows: dict[str, list[Rec]] = {}
        if task.group is not None:
            for r in records:
                rows.setdefault(str(task.group(r)), []).append(r)
        for attr in EXTRA_ATTRIBUTES.get(name, ()):
            for r in records:
                rows.setdefault(f"{attr}={r.get(attr)}", []).append(r)
        for sub, recs in rows.items():
            lines.append(f"| {name} | {sub or '(empty)'} | {len(recs)} | {_labels(recs, label_fn)} |")
        lines.append(f"| **{name}** | **all** | **{len(records)}** | {_labels(records, label_fn)} |")
    scope = "all files" if dimensions == DIMENSIONS else ", ".join(dimensions)
    lines.append(f"| **suite** | **{scope}** | **{grand}** | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=None, help="suite directory (default: the builtin suite)")
    ap.add_argument("--dimensions", default=None, help="comma-separated dimensions to list (default: all)")
    args = ap.parse_args(argv)
    root = args.root or builtin_root()
    dims = DIMENSIONS
    if args.dimensions:
        dims = tuple(d.strip() for d in args.dimensions.split(",") if d.strip())
        unknown = [d for d in dims if d not in DIMENSIONS]
        if unknown:
            print(f"--dimensions: unknown {', '.join(unknown)} (choose from {', '.join(DIMENSIONS)})", file=sys.stderr)
            return 2
    if not root.is_dir():
        print(f"{root}: not a directory", file=sys.stderr)
        return 2
    print(table(root, dims))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
