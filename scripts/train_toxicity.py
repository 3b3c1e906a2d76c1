"""Train the offline toxicity scorer `minilm-logreg-tox` and measure it on the held-out set.

Dev tool (not part of the package). Data: sentences written by hand for trustbench
(tests/fixtures/toxicity_train.jsonl, tests/fixtures/toxicity_heldout.jsonl; the held-out set was
written separately, in different words, and is never used for fitting or model selection).
Output: src/trustbench/judges/weights/toxicity_minilm_lr.json (plain JSON, no pickle).

    HF_HUB_OFFLINE=1 python scripts/train_toxicity.py [--write]

Features: all-MiniLM-L6-v2 sentence embeddings (the same code path as the scorer). The
training set is augmented with multi-sentence texts (a clean lead-in + a toxic sentence is toxic;
two clean sentences are clean) so that the classifier sees response-length inputs. The L2
strength C is chosen by 5-fold cross-validated ROC-AUC on the training set only. A TF-IDF
logistic regression is fitted for comparison and reported, not shipped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from trustbench.judges.embeddings import MiniLMEmbedder  # noqa: E402
from trustbench.judges.toxicity import WEIGHTS, OfflineToxicity  # noqa: E402

TRAIN = ROOT / "tests" / "fixtures" / "toxicity_train.jsonl"
HELDOUT = ROOT / "tests" / "fixtures" / "toxicity_heldout.jsonl"
VERSION = "1"


def load(path: Path) -> tuple[list[str], np.ndarray]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["text"] for r in rows], np.array([int(r["toxic"]) for r in rows])


def augment(texts: list[str], y: np.ndarray, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = random.Random(seed)
    clean = [t for t, lab in zip(texts, y, strict=True) if lab == 0]
    toxic = [t for t, lab in zip(texts, y, strict=True) if lab == 1]
    extra: list[tuple[str, int]] = []
    for t in toxic:
        extra.append((f"{rng.choice(clean)} {t}", 1))
    for _ in range(len(toxic)):
        a, b = rng.sample(clean, 2)
        extra.append((f"{a} {b}", 0))
    return texts + [t for t, _ in extra], np.concatenate([y, np.array([lab for _, lab in extra])])


def metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    pred = (p >= 0.5).astype(int)
    return {
        "n": int(len(y)),
        "n_toxic": int(y.sum()),
        "roc_auc": round(float(roc_auc_score(y, p)), 4),
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "precision": round(float(precision_score(y, pred, zero_division=0)), 4),
        "recall": round(float(recall_score(y, pred, zero_division=0)), 4),
        "f1": round(float(f1_score(y, pred, zero_division=0)), 4),
    }


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="write the weights JSON")
    args = ap.parse_args()

    x_text, y = load(TRAIN)
    h_text, hy = load(HELDOUT)
    xa_text, ya = augment(x_text, y)
    emb = MiniLMEmbedder()
    xa = emb.embed_array(xa_text)

    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    grid = [0.3, 1.0, 3.0, 10.0, 30.0]
    cv_auc = {c: float(cross_val_score(LogisticRegression(C=c, max_iter=5000), xa, ya, cv=cv, scoring="roc_auc").mean())
              for c in grid}
    best_c = max(grid, key=lambda c: (round(cv_auc[c], 4), -c))
    clf = LogisticRegression(C=best_c, max_iter=5000).fit(xa, ya)

    # held-out through the shipped scoring path (chunking included)
    weights = {
        "version": VERSION,
        "name": "minilm-logreg-tox",
        "embedder": "sentence-transformers/all-MiniLM-L6-v2 (normalised, 384-d)",
        "coef": [round(float(v), 7) for v in clf.coef_[0]],
        "intercept": round(float(clf.intercept_[0]), 7),
        "C": best_c,
        "trained_on": {"file": "tests/fixtures/toxicity_train.jsonl", "sha256_16": sha(TRAIN),
                       "sentences": len(x_text), "after_augmentation": len(xa_text)},
    }
    tmp = Path("/tmp/toxicity_weights_candidate.json")
    tmp.write_text(json.dumps(weights))
    scorer = OfflineToxicity(tmp, embedder=emb)
    ph = np.array(scorer.probabilities(h_text))
    held = metrics(hy, ph)
    weights["heldout"] = {"file": "tests/fixtures/toxicity_heldout.jsonl", "sha256_16": sha(HELDOUT), **held}

    # TF-IDF baseline (reported only)
    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    xt = tfidf.fit_transform(xa_text)
    base = LogisticRegression(C=10.0, max_iter=5000).fit(xt, ya)
    pb = base.predict_proba(tfidf.transform(h_text))[:, 1]

    print(f"train: {len(x_text)} sentences ({int(y.sum())} toxic), {len(xa_text)} after augmentation")
    print("5-fold CV ROC-AUC by C:", {c: round(v, 4) for c, v in cv_auc.items()}, "-> C =", best_c)
    print("held-out minilm-logreg-tox:", held)
    print("held-out tfidf-logreg (baseline):", metrics(hy, pb))
    errors = sorted(zip(ph, hy, h_text, strict=True), key=lambda r: -abs(r[0] - r[1]))[:8]
    print("largest held-out errors:")
    for p, lab, t in errors:
        print(f"  p={p:.3f} toxic={lab} {t[:90]!r}")
    if args.write:
        WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
        WEIGHTS.write_text(json.dumps(weights, indent=1) + "\n", encoding="utf-8")
        print("wrote", WEIGHTS)


if __name__ == "__main__":
    main()
