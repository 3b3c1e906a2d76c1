"""Scorers with per-group metrics (a source, an attack type, an awareness dimension): their outcome
bootstrap draws the same intervals as re-running the scorer on resampled items, where a repeated
item counts in its group each time."""

from __future__ import annotations

import random

import pytest
from split_checks import assert_outcome_bootstrap_matches

from trustbench.scoring.items import Item
from trustbench.tasks.registry import get_task

EMOTIONS = "How would she feel? (1) Joyful (2) Anxious (3) Angry (4) Calm"
CHOICES = {"A": "help them", "B": "walk away", "C": "ignore it"}


def _judged(rnd: random.Random, key: str, labels: list, replies: list) -> dict:
    verdicts = {key: rnd.choice(labels)}
    if rnd.random() < 0.3:  # a live judge's first reply, what TrustLLM scores
        verdicts[f"{key}:reply"] = rnd.choice(replies)
    return verdicts


def _external(rnd: random.Random, i: int) -> Item:
    record = {"prompt": "p", "source": rnd.choice(["scifact", "covid", "healthver", "climate", "other"]),
              "answer": rnd.choice(["SUPPORT", "REFUTE"])}
    return Item(task="t", id=f"i{i}", index=i, record=record, response=rnd.choice(
        ["Answer: Supports.", "Answer: Refutes.", "It supports, not refutes", "Answer: .", "SUPPORT",
         "answer: refuted", "Answer: Not enough info", "", None]))


def _internal(rnd: random.Random, i: int) -> Item:
    src = rnd.choice(["codah", "squad", "adversarial", "hotpot"])
    record = {"prompt": "p", "source": src, "answer": rnd.randrange(4) if src == "codah" else "x", "question": "q"}
    verdicts = {} if src == "codah" else _judged(rnd, "qa_correct", ["YES", "NO", "Not sure", None],
                                                 ["Non", "Correct", "Yes, I agree", None])
    return Item(task="t", id=f"i{i}", index=i, record=record, verdicts=verdicts, response=rnd.choice(
        ["Answer: 1", "2", "I think 0 or 1", "The answer is 3: x", "no digits", "", None]))


def _jailbreak(rnd: random.Random, i: int) -> Item:
    verdicts = {"refusal": rnd.choice([True, False, False, None])}
    if rnd.random() < 0.7:
        verdicts["toxicity"] = rnd.choice([0.1, 0.5, 0.93, 0.0])
    return Item(task="t", id=f"i{i}", index=i, record={"prompt": "p", "label": [rnd.choice(["cot", "leetspeak"])]},
                response=rnd.choice(["r", "r", None]), verdicts=verdicts)


def _awareness(rnd: random.Random, i: int) -> Item:
    dim = rnd.choice(["capability", "perspective", "mission", "emotion"])
    if dim == "emotion":
        record = {"prompt": EMOTIONS, "dimension": dim, "label": rnd.choice(["1", "2", "3"])}
        answers = ["Anxious", "(2) Anxious", "Joyful? No, anxious", "2", "12 out of 10", "", None]
    else:
        record = {"prompt": "Q?\nA. help them\nB. walk away\nC. ignore it", "question": "Q?", "choices": CHOICES,
                  "dimension": dim, "label": rnd.choice(["A", "B", "C"])}
        answers = ["B", "A smart assistant, so B.", "The answer is A", "C.Ignore", "I would help them",
                   "Hard to say.", "", None]
    verdicts = {"awareness_mission": rnd.choice(["yes", "no", None])} if dim == "mission" else {}
    return Item(task="t", id=f"i{i}", index=i, record=record, response=rnd.choice(answers), verdicts=verdicts)


# (task, item maker, the modes in which some metric gets a bootstrap interval, which is what this compares)
CASES = [("truthfulness/external", _external, ("corrected", "trustllm")),
         ("truthfulness/internal", _internal, ("corrected", "trustllm")),
         ("safety/jailbreak", _jailbreak, ("corrected", "trustllm")),
         ("ethics/awareness", _awareness, ("corrected",))]  # trustllm: rates only, Wilson intervals


@pytest.mark.parametrize("mode", ["corrected", "trustllm"])
@pytest.mark.parametrize(("name", "make", "boot_modes"), CASES)
def test_outcome_bootstrap_equals_rescoring_items(mode, name, make, boot_modes):
    rnd = random.Random(0)
    items = [make(rnd, i) for i in range(300)]
    assert_outcome_bootstrap_matches(get_task(name), items, mode, boot=mode in boot_modes)
