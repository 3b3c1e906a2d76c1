"""Train the offline toxicity scorer `static-minilm-tfidf-logreg-tox` and measure it on held-out data.

Dev tool (not part of the package). Data: sentences written by hand for trustbench
(tests/fixtures/toxicity_train.jsonl, tests/fixtures/toxicity_heldout.jsonl; the held-out set was
written separately, in different words, and is never used for fitting or model selection).
Output: src/trustbench/judges/weights/toxicity_static_minilm_tfidf_lr.json (plain JSON, no pickle).

    HF_HUB_OFFLINE=1 python scripts/train_toxicity.py [--write]

Model: the mean of two logistic regressions, one on static all-MiniLM-L6-v2 token embeddings (meaning)
and one on word 1-2-gram TF-IDF (explicit profanity and slurs). Static embeddings (as model2vec
distils them): each vocabulary word piece is run through MiniLM alone ([CLS] piece [SEP], mean
pooled) once, here; a text is the plain mean of its pieces' vectors. That logistic regression is
linear in the mean, so it collapses to one score per word piece (coef . vector): the shipped
weights hold 30,522 numbers and run-time scoring needs neither torch nor the transformer. The training set is augmented
with multi-sentence texts (a clean lead-in + a toxic sentence is toxic; two clean sentences are
clean), inside each CV fold too. Each part's L2 strength C and the choice of the ensemble were
made by 5-fold cross-validated ROC-AUC on the training set only; the held-out set is only
reported.
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
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from trustbench.judges.toxicity import WEIGHTS, OfflineToxicity, minilm_tokenizer

TRAIN = ROOT / "tests" / "fixtures" / "toxicity_train.jsonl"
HELDOUT = ROOT / "tests" / "fixtures" / "toxicity_heldout.jsonl"
VERSION = "2"


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
        "n": len(y),
        "n_toxic": int(y.sum()),
        "roc_auc": round(float(roc_auc_score(y, p)), 4),
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "precision": round(float(precision_score(y, pred, zero_division=0)), 4),
        "recall": round(float(recall_score(y, pred, zero_division=0)), 4),
        "f1": round(float(f1_score(y, pred, zero_division=0)), 4),
    }


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def static_vectors() -> np.ndarray:
    """(vocab, 384): MiniLM's mean-pooled output for each word piece alone (about a minute on 2 cores)."""
    import torch

    from trustbench.judges.embeddings import load_sentence_transformer, minilm_path

    model = load_sentence_transformer(minilm_path())
    tok, bert = model.tokenizer, model[0].auto_model
    out = np.zeros((tok.vocab_size, 384), dtype=np.float32)
    with torch.inference_mode():
        for s in range(0, tok.vocab_size, 1024):
            ids = torch.arange(s, min(tok.vocab_size, s + 1024)).unsqueeze(1)
            inp = torch.cat([torch.full_like(ids, tok.cls_token_id), ids, torch.full_like(ids, tok.sep_token_id)], 1)
            out[s : s + len(ids)] = bert(input_ids=inp, attention_mask=torch.ones_like(inp)).last_hidden_state.mean(1).numpy()
    return out


class Embed:
    """Static MiniLM text vectors: the mean of the word pieces' static vectors (unnormalised)."""

    def __init__(self) -> None:
        self.vectors = static_vectors()
        self.tok = minilm_tokenizer()

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.vectors.shape[1]))
        for i, enc in enumerate(self.tok.encode_batch(texts, add_special_tokens=False)):
            if enc.ids:
                out[i] = self.vectors[enc.ids].mean(0)
        return out


def fit_minilm(e: Embed, texts: list[str], y: np.ndarray, c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=5000).fit(e(texts), y)


def fit_tfidf(texts: list[str], y: np.ndarray, c: float) -> tuple[TfidfVectorizer, LogisticRegression]:
    vec = TfidfVectorizer(**TFIDF)
    return vec, LogisticRegression(C=c, max_iter=5000).fit(vec.fit_transform(texts), y)


def cross_validate(e: Embed, x: list[str], y: np.ndarray, c_minilm: float, c_tfidf: float, reps: int = 3):
    """ROC-AUC per model, 5-fold x reps, augmenting inside the training folds only."""
    out: dict[str, list[float]] = {"minilm": [], "tfidf": [], "ensemble": []}
    for rep in range(reps):
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=rep).split(x, y):
            xa, ya = augment([x[i] for i in tr], y[tr], seed=rep)
            xs = [x[i] for i in te]
            pm = fit_minilm(e, xa, ya, c_minilm).predict_proba(e(xs))[:, 1]
            vec, lr = fit_tfidf(xa, ya, c_tfidf)
            pt = lr.predict_proba(vec.transform(xs))[:, 1]
            for k, p in (("minilm", pm), ("tfidf", pt), ("ensemble", (pm + pt) / 2)):
                out[k].append(roc_auc_score(y[te], p))
    return {k: round(float(np.mean(v)), 4) for k, v in out.items()}


GRID = [0.3, 1.0, 3.0, 10.0, 30.0, 100.0]
TFIDF = {"ngram_range": (1, 2), "sublinear_tf": True, "lowercase": True, "token_pattern": r"(?u)\b\w\w+\b"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="write the weights JSON")
    args = ap.parse_args()

    x, y = load(TRAIN)
    hx, hy = load(HELDOUT)
    e = Embed()
    # model selection: cross-validation on the training sentences only
    c_m = max(GRID, key=lambda c: cross_validate(e, x, y, c, 10.0, reps=1)["minilm"])
    c_t = max(GRID, key=lambda c: cross_validate(e, x, y, 10.0, c, reps=1)["tfidf"])
    cv = cross_validate(e, x, y, c_m, c_t)

    xa, ya = augment(x, y)
    m = fit_minilm(e, xa, ya, c_m)
    vec, lr = fit_tfidf(xa, ya, c_t)
    vocab = {term: [round(float(vec.idf_[j]), 6), round(float(lr.coef_[0][j]), 6)] for term, j in vec.vocabulary_.items()}
    weights = {
        "version": VERSION,
        "name": "static-minilm-tfidf-logreg-tox",
        "combine": "mean of the two logistic-regression probabilities",
        "embedder": "static all-MiniLM-L6-v2 word-piece vectors ([CLS] piece [SEP], mean pooled), text = their mean",
        "token_scores": [round(float(v), 6) for v in e.vectors.astype(np.float64) @ m.coef_[0]],
        "intercept": round(float(m.intercept_[0]), 7),
        "tfidf": {"ngram_range": [1, 2], "sublinear_tf": True, "norm": "l2", "token_pattern": TFIDF["token_pattern"],
                  "intercept": round(float(lr.intercept_[0]), 7), "vocab": vocab},
        "C": {"minilm": c_m, "tfidf": c_t},
        "trained_on": {"file": "tests/fixtures/toxicity_train.jsonl", "sha256_16": sha(TRAIN),
                       "sentences": len(x), "toxic": int(y.sum()), "after_augmentation": len(xa)},
        "cv_roc_auc": cv,
    }
    tmp = Path("/tmp/toxicity_weights_candidate.json")
    tmp.write_text(json.dumps(weights))
    scorer = OfflineToxicity(tmp)
    # the pure-Python TF-IDF part must agree with scikit-learn
    mine = np.array([scorer.tfidf_probability(t) for t in hx])
    ref = lr.predict_proba(vec.transform(hx))[:, 1]
    assert np.allclose(mine, ref, atol=1e-4), float(np.abs(mine - ref).max())
    ph = np.array(scorer.probabilities(hx))  # the shipped scoring path (windows included)
    held = {"ensemble": metrics(hy, ph), "minilm": metrics(hy, m.predict_proba(e(hx))[:, 1]), "tfidf": metrics(hy, ref)}
    weights["heldout"] = {"file": "tests/fixtures/toxicity_heldout.jsonl", "sha256_16": sha(HELDOUT), **held["ensemble"]}
    weights["heldout_parts"] = {"minilm": held["minilm"], "tfidf": held["tfidf"]}

    print(f"train: {len(x)} sentences ({int(y.sum())} toxic), {len(xa)} after augmentation; C minilm={c_m} tfidf={c_t}")
    print("5-fold x3 CV ROC-AUC (training set):", cv)
    for k, v in held.items():
        print(f"held-out {k}:", v)
    errors = sorted(zip(ph, hy, hx, strict=True), key=lambda r: -abs(r[0] - r[1]))[:10]
    print("largest held-out errors (ensemble):")
    for p, lab, t in errors:
        print(f"  p={p:.3f} toxic={lab} {t[:90]!r}")
    if args.write:
        WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
        WEIGHTS.write_text(json.dumps(weights, separators=(",", ":")) + "\n", encoding="utf-8")
        print("wrote", WEIGHTS, WEIGHTS.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
