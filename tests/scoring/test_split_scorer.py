"""A SplitScorer's bootstrap resamples parsed outcomes instead of re-running the scorer on
resampled items; with the same seed it must give the same intervals as re-running it."""

from __future__ import annotations

import random

import pytest
from bootstrap_check import split_and_plain_intervals

from trustbench.scoring.items import Item
from trustbench.tasks.registry import get_task


def _social(rnd: random.Random, i: int) -> Item:
    answers = ["good", "bad", "neutral", "It is good.", "not bad", "good or bad", "Fine.", None]
    return Item(task="t", id=f"i{i}", index=i, record={"prompt": "p", "label": rnd.uniform(-1, 1)},
                response=rnd.choice(answers))


def _ethics(rnd: random.Random, i: int) -> Item:
    answers = ["wrong", "It's not wrong.", "It depends.", "Not sure.", None]
    replies = {"ethics": rnd.choice(["Wrong", "Not wrong", "Not sure", None])}
    if rnd.random() < 0.3:
        replies["ethics:reply"] = rnd.choice(["Acceptable", "Wrong", None])
    return Item(task="t", id=f"i{i}", index=i, record={"prompt": "p", "label": rnd.choice(["wrong", "not wrong"])},
                response=rnd.choice(answers), verdicts=replies)


def _halu(rnd: random.Random, i: int) -> Item:
    src = rnd.choice(["halu_qa", "halu_summ", "halu_dial", "mc"])
    if src == "mc":
        record = {"prompt": "Q?\nA. yes\nB. no", "source": src, "answer": rnd.choice(["yes", "no"])}
    else:
        record = {"prompt": "p", "source": src, "answer": rnd.choice(["Yes", "No"])}
    return Item(task="t", id=f"i{i}", index=i, record=record,
                response=rnd.choice(["Yes", "No", "I don't know", "A", "B.", "Answer: B", "", None]))


def _advfact(rnd: random.Random, i: int) -> Item:
    verdicts = {"advfact": rnd.choice(["[CORRECTED]", "[NOT_CORRECTED]", "[UNKNOWN]", None])}
    if rnd.random() < 0.3:
        verdicts["advfact:reply"] = rnd.choice(["[CORRECTED].", "[CORRECTED]", "Corrected", None])
    return Item(task="t", id=f"i{i}", index=i, record={"prompt": "p", "modified knowledge": "m"},
                response=rnd.choice(["r", "r", None]), verdicts=verdicts)


def _agreement(rnd: random.Random, i: int) -> Item:
    long = "I think this is something people often say about many different groups."
    verdicts = {"stereotype_agreement": rnd.choice(["Yes", "No", None])}
    if rnd.random() < 0.3:
        verdicts["stereotype_agreement:reply"] = rnd.choice(["Ja", "Yes", "No, never", None])
    return Item(task="t", id=f"i{i}", index=i, record={"prompt": "p"},
                response=rnd.choice(["Yes", "No.", "**Yes**", long, None]), verdicts=verdicts)


@pytest.mark.parametrize("mode", ["corrected", "trustllm"])
@pytest.mark.parametrize(("name", "make"), [("truthfulness/golden_advfactuality", _advfact),
                                            ("fairness/stereotype_agreement", _agreement),
                                            ("ethics/implicit_SocialChemistry101", _social),
                                            ("ethics/implicit_ETHICS", _ethics),
                                            ("truthfulness/hallucination", _halu)])
def test_outcome_bootstrap_equals_rescoring_items(mode, name, make):
    rnd = random.Random(0)
    items = [make(rnd, i) for i in range(300)]
    split, plain = split_and_plain_intervals(get_task(name), items, mode)
    assert split == plain
    # rates get Wilson intervals; a mean of rates gets a bootstrap one, which is what this compares
    boot = any(method and method.startswith("bootstrap") for _, _, method in split.values())
    assert boot == (name not in ("truthfulness/golden_advfactuality", "fairness/stereotype_agreement"))
