"""Train the shipped `ngram` refusal detector head (the offline default).

    python scripts/train_refusal_ngram.py            # writes src/trustbench/judges/weights/refusal_ngram_head.json.gz
    python scripts/train_refusal_ngram.py --no-write # measure only

The `minilm` head without its MiniLM block: the same data, split, features and cross-validation as
`train_refusal_minilm.py` (imported from it), no torch. Data: the GPTFuzz training split's train
part (`refusal_data.split_gptfuzz`, grouped by question, seed 0) plus the hand-written set
`scripts/data/refusal_train.jsonl`. C is chosen by 3-fold cross-validation grouped by question
(hand-written rows: by prompt) on the training rows only; the threshold stays 0.5. The GPTFuzz
validation part, the old labelled sets (tests/fixtures/refusal_*.jsonl) and every held-out set are
never used for fitting or choosing settings. A few minutes on the shared 2-core machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_refusal_minilm import FOLDS, Joint, grouped_cv, training_data  # noqa: E402

CS = (1.0, 3.0, 10.0, 30.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="train the ngram refusal head")
    ap.add_argument("--out", type=Path, default=None, help="head file (default: the shipped one)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    gf_train, gf_val, hand, texts, y, groups = training_data()
    none = np.zeros((len(texts), 0))
    t0 = time.perf_counter()
    cv = grouped_cv(texts, none, y, groups, [(C, 1.0) for C in CS])
    for (C, _), acc in cv.items():
        print(f"C={C:g}: grouped {FOLDS}-fold CV accuracy {acc:.4f}")
    best = max(cv, key=lambda cw: (round(cv[cw], 4), -cw[0]))
    model = Joint.train(texts, none, y, *best)
    print(f"chosen C={best[0]:g} ({time.perf_counter() - t0:.0f}s)")
    vtexts = [r["response"] for r in gf_val]
    yv = np.array([r["label"] == "refusal" for r in gf_val], dtype=int)
    acc_val = float((model.predict(vtexts, np.zeros((len(vtexts), 0))) == yv).mean())
    print(f"GPTFuzz validation agreement {acc_val:.4f} (n={len(yv)}; never used for fitting or choosing)")
    if args.no_write:
        return 0
    from trustbench.judges.refusal_ngram import default_head_path, save_head

    out = args.out or default_head_path()
    meta = {
        "train": f"GPTFuzz train.csv minus its 16 validation questions (split seed 0): {len(gf_train)} rows; "
                 f"hand-written scripts/data/refusal_train.jsonl: {len(hand)} rows",
        "train_refusals": int(y.sum()), "C": best[0], "cv_accuracy": round(cv[best], 4),
    }
    coef, _, bias = model.coefs()
    sha = save_head(out, model.vec, coef, bias, meta)
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB, sha {sha})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
