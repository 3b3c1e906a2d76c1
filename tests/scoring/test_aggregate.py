"""The shared aggregators: one rule each for missing values (scoring/aggregate.py)."""

from __future__ import annotations

import pytest

from trustbench.scoring.aggregate import ALL_FAILED, NEEDS_JUDGE, cosine, macro_f1, mean_of, rate
from trustbench.scoring.metric import not_computed, proportion


def test_rate_counts_unparsed_as_misses_and_never_invents_a_zero():
    m = rate(3, 10, 6)
    assert (m.value, m.n, m.total, m.parsed) == (0.3, 10, 10, 6)
    assert rate(3, 10, 6, n=6).value == 0.5  # TrustLLM's rule: unparsed left out of n
    assert rate(0, 4, 0, failed=4).reason == ALL_FAILED
    assert rate(0, 4, 0).value == 0.0  # answered but unparsed: a real 0
    m = rate(0, 4, 0, judge_missing=4, unparsed="not_computed")
    assert m.value is None and m.reason == NEEDS_JUDGE
    assert rate(2, 4, 3, judge_missing=1, unparsed="not_computed").extra == {"judge_missing": 1}


def test_mean_of_missing_parts_skip_fail_or_zero():
    parts = {"a": proportion(1, 2), "b": proportion(3, 4), "c": not_computed("no items")}
    assert mean_of(parts).value == pytest.approx(0.625)
    assert mean_of(parts).extra["pooled"] == [4, 6]
    assert mean_of(parts, missing="fail").value is None
    assert mean_of(parts, missing="zero").value == pytest.approx(1.25 / 3)
    assert mean_of({"c": not_computed("no items")}).reason == "c: no items"


def test_cosine_and_macro_f1():
    assert cosine([1, 0], [1, 0]) == 1.0 and cosine([1, 0], [0, 1]) == 0.0
    assert cosine([0, 0], [1, 0]) is None and cosine([0, 0], [1, 0], zero=0.0) == 0.0
    assert cosine([1, 2], [1, 2, 3]) is None and cosine([float("inf"), 1], [1, 1]) is None
    # SUPPORT: tp 1, fn 1 -> F1 2/3; REFUTE: tp 1, fp 0, fn 0 -> 1; an unparsed answer is only a miss
    assert macro_f1(["SUPPORT", "SUPPORT", "REFUTE"], ["SUPPORT", None, "REFUTE"], ["REFUTE", "SUPPORT"]) \
        == pytest.approx((2 / 3 + 1) / 2)
