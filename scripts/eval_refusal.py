"""Measure refusal detectors against the labelled sets; print the tables of docs/judges.md.

    PYTHONPATH=src HF_HUB_OFFLINE=1 python scripts/eval_refusal.py                # ngram, minilm, classifier, keywords
    PYTHONPATH=src HF_HUB_OFFLINE=1 python scripts/eval_refusal.py --write-rates  # + the shipped error rates
    PYTHONPATH=src python scripts/eval_refusal.py --detector llm:SPEC --sample 120  # an extra (slow) detector

Sets (refusal_data.py): the GPTFuzz validation part (16 questions held out of training, split seed 0;
labels by GPTFuzz's authors), tests/fixtures/refusal_validation.jsonl and
tests/fixtures/refusal_heldout.jsonl (model-made labels, see docs/judges.md). Every figure carries
its n and a 95% Wilson interval. `--write-rates` writes the confusion matrix of each shipped detector
over the three sets pooled to src/trustbench/judges/weights/refusal_error_rates.json, which runs use
for judge-adjusted refusal-rate intervals.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refusal_data import (  # noqa: E402
    HELDOUT,
    REPO,
    VALIDATION,
    heldout_split,
    load_gptfuzz,
    read_jsonl,
    split_gptfuzz,
)

RATES = REPO / "src" / "trustbench" / "judges" / "weights" / "refusal_error_rates.json"
SHIPPED = ("ngram", "minilm", "classifier", "keywords")


@dataclass
class Scores:
    tp: int
    fp: int
    fn: int
    tn: int
    undecided: int

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    def _p(self, k: int, n: int) -> str:
        from trustbench.scoring.intervals import wilson_interval

        if not n:
            return "-"
        lo, hi = wilson_interval(k, n)
        return f"{k / n:.3f} [{lo:.3f}, {hi:.3f}]"

    def row(self) -> str:
        """n | agreement [CI] | precision [CI] | recall [CI] | TP/FP/FN/TN | undecided"""
        return (f"{self.n} | {self._p(self.tp + self.tn, self.n)} | {self._p(self.tp, self.tp + self.fp)} | "
                f"{self._p(self.tp, self.tp + self.fn)} | {self.tp}/{self.fp}/{self.fn}/{self.tn} | {self.undecided}")

    @property
    def agreement(self) -> float:
        return (self.tp + self.tn) / self.n if self.n else 0.0


def score(pred: Sequence[bool | None], gold: Sequence[bool]) -> Scores:
    """Positive class = refusal; an undecided verdict counts as a miss (fn or fp by the gold label)."""
    tp = sum(p is True and g for p, g in zip(pred, gold))
    fp = sum(p is True and not g for p, g in zip(pred, gold))
    fn = sum(p is not True and g for p, g in zip(pred, gold))
    tn = sum(p is False and not g for p, g in zip(pred, gold))
    fp += sum(p is None and not g for p, g in zip(pred, gold))
    return Scores(tp, fp, fn, tn, sum(p is None for p in pred))


def subset(rows: list[dict], pred: list, keep: Callable[[dict], bool]) -> Scores:
    ix = [i for i, r in enumerate(rows) if keep(r)]
    return score([pred[i] for i in ix], [rows[i]["label"] == "refusal" for i in ix])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="evaluate refusal detectors on the labelled sets")
    ap.add_argument("--detector", action="append", default=None, help="detector name (repeatable)")
    ap.add_argument("--sample", type=int, default=0, help="score a seeded sample of N rows per set (slow judges)")
    ap.add_argument("--write-rates", action="store_true", help="write the shipped error rates")
    ap.add_argument("--errors", type=int, default=0, help="print up to N misjudged rows per detector and set")
    args = ap.parse_args(argv)
    from trustbench.judges.refusal import make_refusal_detector

    gf_train, gf_val = split_gptfuzz(load_gptfuzz())
    seen = {r["response"] for r in gf_train}
    sets = {"gptfuzz-val": gf_val, "validation": read_jsonl(VALIDATION), "heldout": read_jsonl(HELDOUT)}
    if args.sample:
        sets = {k: random.Random(0).sample(v, min(args.sample, len(v))) for k, v in sets.items()}
    dev, test = heldout_split(sets["heldout"])
    dev_ids = {(r["category"], r["item"]) for r in dev}
    rates: dict[str, dict] = {}
    for name in args.detector or list(SHIPPED):
        det = make_refusal_detector(name)
        print(f"\n## `{name}` (version {det.version})")
        print("| set | n | agreement | precision | recall | TP/FP/FN/TN | undecided |\n|---|---|---|---|---|---|---|")
        pooled_pred: list = []
        pooled_gold: list = []
        for set_name, rows in sets.items():
            t0 = time.perf_counter()
            pred = [v.refusal for v in det.detect([r["response"] for r in rows])]
            secs = time.perf_counter() - t0
            gold = [r["label"] == "refusal" for r in rows]
            pooled_pred += pred
            pooled_gold += gold
            print(f"| {set_name} (all) | {score(pred, gold).row()} |")
            if set_name == "gptfuzz-val":
                print(f"| gptfuzz-val, text not in training | {subset(rows, pred, lambda r: r['response'] not in seen).row()} |")
            else:
                key = "source" if set_name == "validation" else "category"
                for v in sorted({r[key] for r in rows}):
                    print(f"| {set_name}: {v} | {subset(rows, pred, lambda r, v=v, k=key: r[k] == v).row()} |")
                if set_name == "heldout":
                    print(f"| heldout: dev half | {subset(rows, pred, lambda r: (r['category'], r['item']) in dev_ids).row()} |")
                    print(f"| heldout: test half | {subset(rows, pred, lambda r: (r['category'], r['item']) not in dev_ids).row()} |")
            print(f"<!-- {set_name}: {len(rows) / secs:,.0f} responses/s -->")
            if args.errors:
                bad = [(r, p) for r, p in zip(rows, pred) if p != (r["label"] == "refusal")][: args.errors]
                for r, p in bad:
                    print(f"    MISS gold={r['label']} pred={p}: {r['response'][:200]!r}")
        s = score(pooled_pred, pooled_gold)
        print(f"| pooled (3 sets) | {s.row()} |")
        rates[name] = {"tp": s.tp, "fp": s.fp, "fn": s.fn, "tn": s.tn, "n": s.n, "version": det.version,
                       "validation": "GPTFuzz train.csv validation questions (split seed 0, scripts/refusal_data.py), "
                                     "tests/fixtures/refusal_validation.jsonl, tests/fixtures/refusal_heldout.jsonl"}
    if args.write_rates:
        if args.sample or set(rates) != set(SHIPPED):
            print("--write-rates needs the full sets and exactly the shipped detectors", file=sys.stderr)
            return 2
        RATES.write_text(json.dumps(rates, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {RATES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
