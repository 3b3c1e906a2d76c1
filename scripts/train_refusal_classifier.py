"""Train the shipped `classifier` refusal detector.

    PYTHONPATH=src python scripts/train_refusal_classifier.py          # retrain, write the shipped weights
    PYTHONPATH=src python scripts/train_refusal_classifier.py --cv 5   # also print 5-fold cross-validation

Data: scripts/data/refusal_train.jsonl (hand-written, see docs/judges.md), one
object per line with `response` and `label` ("refusal" | "compliance"). Needs numpy + scipy only;
runs in a few seconds on one CPU core.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from trustbench.judges.refusal_classifier import (
    FeatureConfig,
    Vectorizer,
    default_weights_path,
    save_weights,
)

DEFAULT_C = 10.0


def default_train_path() -> Path:
    return Path(__file__).resolve().parent / "data" / "refusal_train.jsonl"


def load_labelled(path: Path) -> tuple[list[str], np.ndarray]:
    texts, labels = [], []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row["label"] not in ("refusal", "compliance"):
                raise ValueError(f"{path}:{n}: label must be 'refusal' or 'compliance'")
            texts.append(row["response"])
            labels.append(1 if row["label"] == "refusal" else 0)
    return texts, np.asarray(labels, dtype=np.float64)


def fit_lr(X, y: np.ndarray, C: float = DEFAULT_C) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression with balanced class weights (L-BFGS)."""
    from scipy.optimize import minimize

    n, d = X.shape
    pos = max(1.0, y.sum())
    neg = max(1.0, n - y.sum())
    sw = np.where(y == 1, n / (2 * pos), n / (2 * neg))
    lam = 1.0 / C

    def f(theta):
        w, b = theta[:d], theta[d]
        z = X @ w + b
        # log(1 + exp(-s z)) computed stably
        s = 2 * y - 1
        m = -s * z
        loss = np.sum(sw * np.logaddexp(0, m)) + 0.5 * lam * (w @ w)
        p = 1 / (1 + np.exp(-z))
        g = sw * (p - y)
        return loss, np.concatenate([X.T @ g + lam * w, [g.sum()]])

    res = minimize(f, np.zeros(d + 1), jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    return res.x[:d], float(res.x[d])


def train(texts: Sequence[str], y: np.ndarray, cfg: FeatureConfig | None = None, C: float = DEFAULT_C):
    cfg = cfg or FeatureConfig()
    vec = Vectorizer.fit(texts, cfg)
    coef, bias = fit_lr(vec.matrix(texts), y, C)
    return vec, coef, bias


def predict(vec: Vectorizer, coef: np.ndarray, bias: float, texts: Sequence[str]) -> np.ndarray:
    z = vec.matrix(texts) @ coef + bias
    return 1 / (1 + np.exp(-z))


def cross_validate(texts: list[str], y: np.ndarray, k: int, C: float, seed: int = 0) -> dict[str, float]:
    idx = list(range(len(texts)))
    random.Random(seed).shuffle(idx)
    folds = [idx[i::k] for i in range(k)]
    pred = np.zeros(len(texts))
    for fold in folds:
        test = set(fold)
        tr = [i for i in idx if i not in test]
        vec, coef, bias = train([texts[i] for i in tr], y[tr], C=C)
        pred[fold] = predict(vec, coef, bias, [texts[i] for i in fold])
    yhat = pred >= 0.5
    acc = float(np.mean(yhat == (y == 1)))
    tp = float(np.sum(yhat & (y == 1)))
    prec = tp / max(1.0, float(yhat.sum()))
    rec = tp / max(1.0, float((y == 1).sum()))
    return {"accuracy": acc, "precision": prec, "recall": rec}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--data", type=Path, default=None, help="training JSONL (default: shipped)")
    ap.add_argument("--out", type=Path, default=None, help="weights file (default: shipped)")
    ap.add_argument("--C", type=float, default=DEFAULT_C, help="inverse L2 strength")
    ap.add_argument("--cv", type=int, default=0, help="k-fold cross-validation first (0: skip)")
    args = ap.parse_args(argv)
    data = args.data or default_train_path()
    out = args.out or default_weights_path()
    texts, y = load_labelled(data)
    t0 = time.perf_counter()
    if args.cv:
        cv = cross_validate(texts, y, args.cv, args.C)
        print(f"{args.cv}-fold CV: " + ", ".join(f"{k} {v:.3f}" for k, v in cv.items()))
    vec, coef, bias = train(texts, y, C=args.C)
    train_acc = float(np.mean((predict(vec, coef, bias, texts) >= 0.5) == (y == 1)))
    meta = {"train_rows": len(texts), "train_refusals": int(y.sum()), "C": args.C,
            "train_accuracy": round(train_acc, 4)}
    sha = save_weights(out, vec, coef, bias, meta)
    size = out.stat().st_size
    print(f"trained on {len(texts)} rows ({int(y.sum())} refusals), {len(vec.vocab)} features, "
          f"train acc {train_acc:.3f}, {time.perf_counter() - t0:.1f}s -> {out} ({size // 1024} KiB, sha {sha})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
