"""`trustbench judge audit`: a stratified sample of a run's judged items, to be labelled.

Writes `DIR/sheet.html` (the labelling page) and `DIR/labels.jsonl`, one line per sampled item:
`{"task", "id", "judge", "verdict", "label": null, "response_sha256"}` in the order the page shows
them. `response_sha256` ties a label to the exact response it was given for, so labels made for
another run are refused by `judge calibrate`.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from trustbench.calibration.judged import JudgedItem, judged_items
from trustbench.engine.rundir import atomic_write
from trustbench.errors import TrustbenchError
from trustbench.report.rundir import load_run

SAMPLING = (
    "proportionate stratified sample without replacement: strata are (task, judge, verdict); each "
    "stratum gets its share of n (largest remainder, ties by name), items drawn with a seeded "
    "random.Random per stratum, then shown in a seeded random order (the order does not hint at "
    "the verdict). Proportionate allocation keeps the sample self-weighting, so its raw confusion "
    "matrix estimates the judge's rates on the whole run"
)

Stratum = tuple[str, str, bool]


@dataclass(frozen=True)
class Audit:
    sheet: Path
    labels: Path
    sampled: int
    judged: int
    strata: dict[Stratum, tuple[int, int]]  # stratum -> (judged items, sampled)


def allocate(sizes: dict[Stratum, int], n: int) -> dict[Stratum, int]:
    """Largest-remainder proportional allocation of n draws over strata of these sizes."""
    total = sum(sizes.values())
    if n >= total:
        return dict(sizes)
    keys = sorted(sizes)
    quota = {k: n * sizes[k] / total for k in keys}
    alloc = {k: int(quota[k]) for k in keys}
    rest = n - sum(alloc.values())
    for k in sorted(keys, key=lambda k: (-(quota[k] - alloc[k]), k))[:rest]:
        alloc[k] += 1
    return alloc


def stratified_sample(items: Sequence[JudgedItem], n: int, seed: int) -> list[JudgedItem]:
    """About n items (exactly min(n, len(items))), stratified by task, judge and verdict; the
    same items, seed and n always give the same sample in the same order."""
    if n < 1:
        raise TrustbenchError("--n: must be a positive integer")
    strata: dict[Stratum, list[JudgedItem]] = {}
    for it in items:
        strata.setdefault((it.task, it.judge, it.verdict), []).append(it)
    alloc = allocate({k: len(v) for k, v in strata.items()}, n)
    chosen: list[JudgedItem] = []
    for k in sorted(strata):
        rng = random.Random(f"{seed}:{k[0]}:{k[1]}:{k[2]}")
        pool = sorted(strata[k], key=lambda it: it.id)  # the input order does not matter
        chosen.extend(rng.sample(pool, alloc[k]))
    random.Random(f"{seed}:order").shuffle(chosen)
    return chosen


def label_line(it: JudgedItem, label: bool | None = None) -> str:
    return json.dumps(
        {"task": it.task, "id": it.id, "judge": it.judge, "verdict": it.verdict, "label": label,
         "response_sha256": it.response_sha256},
        ensure_ascii=False,
    )


def write_audit(run_dir: Path | str, out_dir: Path | str, *, n: int, seed: int = 0, force: bool = False) -> Audit:
    """Sample the run's judged items and write DIR/sheet.html and DIR/labels.jsonl.

    Refuses (TrustbenchError, nothing written) to overwrite an earlier audit unless `force`.
    """
    from trustbench.calibration.sheet import render_sheet

    if n < 1:
        raise TrustbenchError("--n: must be a positive integer")
    run = load_run(run_dir)
    items = judged_items(run)
    if not items:
        raise TrustbenchError(
            f"{run.samples_path}: no yes/no judge verdicts (refusal) on a response: nothing to audit"
        )
    out = Path(out_dir)
    sheet, labels = out / "sheet.html", out / "labels.jsonl"
    if not force:
        for p in (sheet, labels):
            if p.exists():
                raise TrustbenchError(f"{p}: already exists (an earlier audit?); choose another -o or pass --force")
    sample = stratified_sample(items, n, seed)
    sizes = Counter((it.task, it.judge, it.verdict) for it in items)
    taken = Counter((it.task, it.judge, it.verdict) for it in sample)
    strata = {k: (sizes[k], taken[k]) for k in sorted(sizes)}
    html = render_sheet(run, sample, seed=seed, judged=len(items), strata=strata)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TrustbenchError(f"-o {out}: cannot create directory ({e.strerror or e})") from None
    atomic_write(labels, "".join(label_line(it) + "\n" for it in sample))
    atomic_write(sheet, html)
    return Audit(sheet=sheet, labels=labels, sampled=len(sample), judged=len(items), strata=strata)
