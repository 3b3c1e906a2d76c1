"""Train the shipped `minilm` refusal detector head (the default is `ngram`: train_refusal_ngram.py).

    HF_HUB_OFFLINE=1 python scripts/train_refusal_minilm.py            # writes the shipped head
    HF_HUB_OFFLINE=1 python scripts/train_refusal_minilm.py --no-write # measure only

Data: the GPTFuzz training split's train part (`refusal_data.split_gptfuzz`, grouped by question,
seed 0) plus the hand-written set `scripts/data/refusal_train.jsonl`. The GPTFuzz validation part,
the old labelled sets (tests/fixtures/refusal_*.jsonl) and every held-out set are never used for
fitting or choosing settings: C and the weight of the MiniLM block are chosen by 3-fold
cross-validation grouped by question (hand-written rows: by prompt) on the training rows only; the
threshold stays 0.5.

Features: the frozen all-MiniLM-L6-v2 embeddings and the n-gram blocks of
`trustbench.judges.refusal_minilm`. The embeddings are cached in `--cache` (keyed by text hash
and window size), so reruns skip them. Uses 2 torch threads (the machine is shared). Measured on
the shared 2-core box (load average ~6-10): embeddings of all texts ~15 minutes on the first run,
the 3-fold grid search + final fit ~10 minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refusal_data import load_gptfuzz, load_handwritten, split_gptfuzz  # noqa: E402

CS = (3.0, 10.0, 30.0)
WS = (0.5, 1.0)  # scale of the dense MiniLM block against the L2-normalised n-gram blocks
MAX_TOKENS = 128
FOLDS = 3


def features(texts: list[str], cache: Path | None, max_tokens: int = MAX_TOKENS) -> np.ndarray:
    """MiniLM features per text, computed once per distinct text and cached on disk."""
    from trustbench.judges.refusal_minilm import MiniLMEncoder

    keys = [hashlib.sha256(f"{max_tokens}\0{t}".encode()).hexdigest()[:20] for t in texts]
    store: dict[str, np.ndarray] = {}
    if cache and cache.exists():
        z = np.load(cache)
        store = dict(zip(z["keys"].tolist(), z["x"]))
    todo = sorted({k: t for k, t in zip(keys, texts) if k not in store}.items())
    if todo:
        enc = MiniLMEncoder(max_tokens)
        t0 = time.perf_counter()
        for i in range(0, len(todo), 512):
            part = todo[i : i + 512]
            for (k, _), x in zip(part, enc.features([t for _, t in part])):
                store[k] = x
            print(f"  features {min(i + 512, len(todo))}/{len(todo)} ({time.perf_counter() - t0:.0f}s)", flush=True)
            if cache:
                cache.parent.mkdir(parents=True, exist_ok=True)
                np.savez(cache, keys=np.array(list(store)), x=np.stack(list(store.values())))
    return np.stack([store[k] for k in keys])


class Joint:
    """n-gram vectorizer (fitted on the training texts) + scaled dense block + sklearn LR.

    The dense block may have zero columns (the `ngram` head: n-grams only)."""

    def __init__(self, vec, C: float, w: float):
        self.vec, self.C, self.w = vec, C, w

    @classmethod
    def train(cls, texts: list[str], dense: np.ndarray, y: np.ndarray, C: float, w: float) -> Joint:
        from trustbench.judges.refusal_classifier import FeatureConfig, Vectorizer

        vec = Vectorizer.fit(texts, FeatureConfig())
        return cls(vec, C, w).fit(vec.matrix(texts), dense, y)

    def stack(self, sparse, dense: np.ndarray):
        from scipy.sparse import csr_matrix, hstack

        return hstack([sparse, csr_matrix(dense * self.w)]).tocsr()

    def fit(self, sparse, dense: np.ndarray, y: np.ndarray) -> Joint:
        from sklearn.linear_model import LogisticRegression

        self.lr = LogisticRegression(C=self.C, max_iter=5000).fit(self.stack(sparse, dense), y)
        return self

    def predict(self, texts: list[str], dense: np.ndarray, sparse=None) -> np.ndarray:
        return self.lr.predict(self.stack(self.vec.matrix(texts) if sparse is None else sparse, dense))

    def coefs(self) -> tuple[np.ndarray, np.ndarray, float]:
        c = self.lr.coef_[0]
        n = len(self.vec.vocab)
        return c[:n], c[n:] * self.w, float(self.lr.intercept_[0])


def training_data() -> tuple[list[dict], list[dict], list[dict], list[str], np.ndarray, np.ndarray]:
    """(GPTFuzz train part, GPTFuzz validation part, hand-written rows, training texts, labels
    (1 = refusal), CV groups): GPTFuzz rows are grouped by question, hand-written rows by prompt."""
    gf_train, gf_val = split_gptfuzz(load_gptfuzz())
    hand = load_handwritten()
    rows = gf_train + hand
    texts = [r["response"] for r in rows]
    y = np.array([r["label"] == "refusal" for r in rows], dtype=int)
    groups = np.array([f"q{r['question']}" if "question" in r else f"h{r['prompt']}" for r in rows])
    return gf_train, gf_val, hand, texts, y, groups


def grouped_cv(texts: list[str], X: np.ndarray, y: np.ndarray, groups: np.ndarray,
               grid: list[tuple[float, float]], k: int = FOLDS, seed: int = 0) -> dict[tuple[float, float], float]:
    """Accuracy of k-fold cross-validation with whole groups per fold, for each (C, w) of `grid`
    (the n-gram vocabulary is fitted on each fold's training part, once per fold)."""
    from trustbench.judges.refusal_classifier import FeatureConfig, Vectorizer

    g = np.unique(groups)
    np.random.default_rng(seed).shuffle(g)
    correct = dict.fromkeys(grid, 0)
    t0 = time.perf_counter()
    for f in range(k):
        test = np.isin(groups, g[f::k])
        tr = [t for t, m in zip(texts, test) if not m]
        te = [t for t, m in zip(texts, test) if m]
        vec = Vectorizer.fit(tr, FeatureConfig())
        s_tr, s_te = vec.matrix(tr), vec.matrix(te)
        for C, w in grid:
            model = Joint(vec, C, w).fit(s_tr, X[~test], y[~test])
            correct[C, w] += int((model.predict(te, X[test], s_te) == y[test]).sum())
        print(f"  fold {f + 1}/{k} done ({time.perf_counter() - t0:.0f}s)", flush=True)
    return {cw: n / len(y) for cw, n in correct.items()}


def main(argv: list[str] | None = None) -> int:
    import torch

    torch.set_num_threads(2)
    ap = argparse.ArgumentParser(description="train the minilm refusal head")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "trustbench" / "refusal_features.npz")
    ap.add_argument("--out", type=Path, default=None, help="head file (default: the shipped one)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    gf_train, gf_val, hand, texts, y, groups = training_data()
    X = features(texts, args.cache)
    t0 = time.perf_counter()
    cv = grouped_cv(texts, X, y, groups, [(C, w) for C in CS for w in WS])
    for (C, w), acc in cv.items():
        print(f"C={C:g} w={w:g}: grouped {FOLDS}-fold CV accuracy {acc:.4f}")
    best = max(cv, key=lambda cw: (round(cv[cw], 4), -cw[0], -cw[1]))
    model = Joint.train(texts, X, y, *best)
    print(f"chosen C={best[0]:g} w={best[1]:g} ({time.perf_counter() - t0:.0f}s)")
    vtexts = [r["response"] for r in gf_val]
    yv = np.array([r["label"] == "refusal" for r in gf_val], dtype=int)
    acc_val = float((model.predict(vtexts, features(vtexts, args.cache)) == yv).mean())
    print(f"GPTFuzz validation agreement {acc_val:.4f} (n={len(yv)}; never used for fitting or choosing)")
    if args.no_write:
        return 0
    from trustbench.judges.refusal_minilm import default_head_path, save_head

    out = args.out or default_head_path()
    meta = {
        "train": f"GPTFuzz train.csv minus its 16 validation questions (split seed 0): {len(gf_train)} rows; "
                 f"hand-written scripts/data/refusal_train.jsonl: {len(hand)} rows",
        "train_refusals": int(y.sum()), "C": best[0], "dense_scale": best[1], "cv_accuracy": round(cv[best], 4),
    }
    cs, cd, b = model.coefs()
    sha = save_head(out, model.vec, cs, cd, b, {"max_tokens": MAX_TOKENS, "threshold": 0.5}, meta)
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB, sha {sha})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
