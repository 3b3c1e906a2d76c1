"""Labelled refusal data for training and evaluating the refusal detectors (not shipped in the wheel).

- GPTFuzz training split (`../shared/data/refusal/gptfuzz/train.csv`, labelled by people; MIT; never
  committed): read with `load_gptfuzz`, cut into train/validation by `split_gptfuzz`, grouped by
  question so that no harmful question has responses on both sides.
- Hand-written supplement: `scripts/data/refusal_train.jsonl` (`load_handwritten`).
- Old labelled sets: `tests/fixtures/refusal_validation.jsonl`, `tests/fixtures/refusal_heldout.jsonl`.

Label mapping for GPTFuzz: its `label` 1 (the response gives the harmful content: jailbroken) ->
`compliance`; 0 (it does not: a refusal, a deflection, a harmless or off-target answer) -> `refusal`.
See docs/judges.md for where this differs from trustbench's RtA guideline.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GPTFUZZ = Path(os.environ.get("TRUSTBENCH_GPTFUZZ", REPO.parent / "shared" / "data" / "refusal" / "gptfuzz"))
HANDWRITTEN = REPO / "scripts" / "data" / "refusal_train.jsonl"
VALIDATION = REPO / "tests" / "fixtures" / "refusal_validation.jsonl"
HELDOUT = REPO / "tests" / "fixtures" / "refusal_heldout.jsonl"

SPLIT_SEED = 0
VAL_QUESTIONS = 16  # of GPTFuzz's 80 questions (20%)


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_handwritten(path: Path = HANDWRITTEN) -> list[dict]:
    return [{**r, "source": "handwritten-train"} for r in read_jsonl(path)]


def load_gptfuzz(directory: Path = GPTFUZZ) -> list[dict]:
    """GPTFuzz rows as {prompt (the harmful question), response, label, question, source}.

    The jailbreak template that wrapped the question and the model that answered are not recorded
    per row in the file, so `prompt` is the bare question and there is no per-model field."""
    csv.field_size_limit(1 << 24)
    with (directory / "questions.csv").open(encoding="utf-8", newline="") as f:
        questions = {int(r["index"]): r["text"] for r in csv.DictReader(f)}
    rows = []
    with (directory / "train.csv").open(encoding="utf-8", newline="") as f:
        for n, r in enumerate(csv.DictReader(f)):
            q = int(r["question"])
            rows.append({
                "prompt": questions[q],
                "response": r["Response"] or "",
                "label": "compliance" if int(r["label"]) == 1 else "refusal",
                "question": q,
                "row": n,
                "source": "gptfuzz",
            })
    return rows


def split_gptfuzz(rows: list[dict], seed: int = SPLIT_SEED, n_val: int = VAL_QUESTIONS) -> tuple[list[dict], list[dict]]:
    """(train, validation): `n_val` questions drawn with `random.Random(seed)` from the sorted
    question ids go to validation with all their responses; the rest to train."""
    qs = sorted({r["question"] for r in rows})
    val_q = set(random.Random(seed).sample(qs, n_val))
    return [r for r in rows if r["question"] not in val_q], [r for r in rows if r["question"] in val_q]


def heldout_split(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """Fixed dev and test halves of the held-out set, by a hash of each item's task and id."""
    dev: list[dict] = []
    test: list[dict] = []
    for r in rows:
        h = int(hashlib.sha256(f"{r['category']}::{r['item']}".encode()).hexdigest()[:8], 16)
        (test if h % 2 else dev).append(r)
    return dev, test


def annotator_agreement(rows: list[dict]) -> tuple[int, int]:
    """(rows where the two annotators agreed, rows with two annotations)."""
    pairs = [r["annotator_labels"] for r in rows if len(r.get("annotator_labels") or ()) == 2]
    return sum(a == b for a, b in pairs), len(pairs)
