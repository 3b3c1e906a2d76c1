"""Build scripts/data/refusal_train.jsonl from hand-written fragments.

Every sentence below was written by hand for trustbench (no dataset was copied). Refusals are
composed from openers x reasons x redirections over many topics; compliant answers from
hand-written answers x presentation styles (disclaimers, apologies, safety notes, lists, code,
short answers, other languages). Deterministic (seeded): rerun to rebuild the same file.

    python scripts/build_refusal_train.py
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from refusal_train_fragments import (
    BENIGN_QA,
    CAPABILITY_REFUSALS,
    CODE_QA,
    COMPLY_HARMFUL,
    DEFLECTIONS,
    DISCLAIMER_PREFIXES,
    EMPATHY_QA,
    EXAGGERATED_QA,
    EXTRA_COMPLY,
    IMPLICIT_REFUSALS,
    LIST_INTROS,
    MORALIZING,
    MULTI_COMPLY,
    MULTI_REFUSE,
    NEGATION_TRAPS,
    PARTIAL_REFUSALS,
    RAMBLING_COMPLY,
    REFUSAL_OPENERS,
    REFUSAL_REASONS,
    REFUSAL_REDIRECTS,
    REFUSAL_STANDALONE,
    ROLEPLAY_COMPLY,
    ROLEPLAY_REFUSALS,
    SAFETY_NOTES,
    SHORT_ANSWERS,
    SOFT_REFUSALS,
    SORRY_CONFUSION_PREFIXES,
    TOPICS,
)

OUT = Path(__file__).resolve().parents[1] / "scripts/data/refusal_train.jsonl"


def fill(tpl: str, topic: dict[str, str]) -> str:
    return tpl.format(**topic)


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def build(seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    rows: list[dict] = []

    def add(response: str, label: str, style: str, prompt: str = "") -> None:
        rows.append({"prompt": prompt, "response": response.strip(), "label": label, "style": style})

    # --- refusals --------------------------------------------------------------------
    for topic in TOPICS:
        for _ in range(5):
            parts = [fill(rng.choice(REFUSAL_OPENERS), topic)]
            if rng.random() < 0.75:
                parts.append(fill(rng.choice(REFUSAL_REASONS), topic))
            if rng.random() < 0.65:
                parts.append(fill(rng.choice(REFUSAL_REDIRECTS), topic))
            text = " ".join(cap(p) for p in parts)
            r = rng.random()
            if r < 0.1:
                text = "**" + parts[0] + "**\n\n" + " ".join(parts[1:])
            elif r < 0.2 and len(parts) > 2:
                text = parts[0] + "\n\n" + parts[1] + "\n\n" + parts[2]
            add(text, "refusal", "refusal-composed", topic["prompt"])
        for tpl in rng.sample(IMPLICIT_REFUSALS, 2):
            add(fill(tpl, topic), "refusal", "refusal-lecture", topic["prompt"])
        for tpl in rng.sample(PARTIAL_REFUSALS, 2):
            add(fill(tpl, topic), "refusal", "refusal-partial", topic["prompt"])
    for s in REFUSAL_STANDALONE:
        add(s, "refusal", "refusal-short")
    for s in CAPABILITY_REFUSALS:
        add(s, "refusal", "refusal-capability")
    for s in ROLEPLAY_REFUSALS:
        add(s, "refusal", "refusal-roleplay")
    for s in MULTI_REFUSE:
        add(s, "refusal", "refusal-multilingual")
    for s in DEFLECTIONS:
        add(s, "refusal", "refusal-deflection")
    for s in MORALIZING:
        add(s, "refusal", "refusal-moralizing")
    for s in SOFT_REFUSALS:
        add(s, "refusal", "refusal-soft")

    # --- compliance ------------------------------------------------------------------
    for q, a in BENIGN_QA:
        add(a, "compliance", "benign", q)
        r = rng.random()
        if r < 0.3:
            add(rng.choice(DISCLAIMER_PREFIXES) + " " + a, "compliance", "disclaimer+answer", q)
        elif r < 0.5:
            add(rng.choice(SORRY_CONFUSION_PREFIXES) + " " + a, "compliance", "apology+answer", q)
        elif r < 0.75:
            add(a + "\n\n" + rng.choice(SAFETY_NOTES), "compliance", "answer+safety", q)
        else:
            sents = [s.strip() for s in a.replace("\n", " ").split(". ") if s.strip()]
            if len(sents) >= 2:
                lst = rng.choice(LIST_INTROS) + "\n" + "\n".join(
                    f"{i}. {s.rstrip('.')}." if rng.random() < 0.5 else f"- {s.rstrip('.')}."
                    for i, s in enumerate(sents, 1))
                add(lst, "compliance", "list", q)
    for q, a in CODE_QA:
        add(a, "compliance", "code", q)
    for q, a in EMPATHY_QA:
        add(a, "compliance", "empathy+answer", q)
    for q, a in EXAGGERATED_QA:
        add(a, "compliance", "exaggerated-safety", q)
        if rng.random() < 0.4:
            add(a + "\n\n" + rng.choice(SAFETY_NOTES), "compliance", "exaggerated-safety", q)
    for q, a in COMPLY_HARMFUL:
        add(a, "compliance", "harmful-complied", q)
    for s in ROLEPLAY_COMPLY:
        add(s, "compliance", "roleplay-complied")
    for s in NEGATION_TRAPS:
        add(s, "compliance", "negation-trap")
    for q, a in SHORT_ANSWERS:
        add(a, "compliance", "short", q)
    for s in MULTI_COMPLY:
        add(s, "compliance", "multilingual")
    for q, a in RAMBLING_COMPLY:
        add(a, "compliance", "rambling-complied", q)
    for s in EXTRA_COMPLY:
        add(s, "compliance", "benign-short")
    # a second presentation of every benign answer (balances the classes)
    for q, a in BENIGN_QA + EXAGGERATED_QA:
        pre = rng.choice(DISCLAIMER_PREFIXES + SORRY_CONFUSION_PREFIXES + [""])
        post = rng.choice(SAFETY_NOTES + ["", "", "Hope this helps!", "Let me know if you have other questions."])
        add((pre + " " + a + " " + post).strip(), "compliance", "benign-styled", q)

    # dedupe, keep order
    seen, out = set(), []
    for r in rows:
        key = " ".join(r["response"].lower().split())
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def main() -> None:
    rows = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    n_ref = sum(r["label"] == "refusal" for r in rows)
    print(f"{len(rows)} rows ({n_ref} refusal, {len(rows) - n_ref} compliance) -> {OUT}")


if __name__ == "__main__":
    main()
