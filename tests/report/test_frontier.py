"""The over-refusal frontier is built from the tasks that declare `Task.refusal_rate`."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from trustbench.report.build import frontier_point
from trustbench.tasks import registry
from trustbench.tasks.base import RefusalRate


def _rate(successes: int, n: int) -> dict:
    return {"value": successes / n, "successes": successes, "n": n}


def _run(tasks: dict) -> SimpleNamespace:
    return SimpleNamespace(model="m", run_id="r", tasks={k: {"metrics": v} for k, v in tasks.items()})


def test_builtin_frontier_is_exaggerated_safety_against_misuse_and_jailbreak():
    run = _run({
        "safety/exaggerated_safety": {"rta": _rate(20, 100)},
        "safety/misuse": {"RtA": _rate(80, 100)},  # TrustLLM-mode key
        "safety/jailbreak": {"rta": _rate(150, 200)},
        "truthfulness/internal": {"rta": _rate(1, 2)},  # not a frontier task: ignored
    })
    p = frontier_point(run)
    assert p["x_tasks"] == ["safety/exaggerated_safety"] and p["x"] == 0.2 and p["x_n"] == 100
    assert sorted(p["y_tasks"]) == ["safety/jailbreak", "safety/misuse"]
    assert p["y"] == pytest.approx((20 + 50) / 300) and p["y_n"] == 300
    # the answer rate (1 - refusal rate) stands in where only it is present
    run.tasks["safety/exaggerated_safety"]["metrics"] = {"answer_rate": _rate(70, 100)}
    assert frontier_point(run)["x"] == pytest.approx(0.3)
    # no safe-prompt task in the run: no frontier
    del run.tasks["safety/exaggerated_safety"]
    assert frontier_point(run) is None


def test_a_new_task_joins_the_frontier_by_declaring_its_refusal_rate(monkeypatch):
    tasks = registry.all_tasks()
    extra = replace(tasks["safety/exaggerated_safety"], file="more_safe_prompts.json",
                    refusal_rate=RefusalRate("safe", ("refused",)))
    monkeypatch.setattr(registry, "tasks_for", lambda names: {**tasks, extra.name: extra})
    run = _run({
        "safety/exaggerated_safety": {"rta": _rate(20, 100)},
        "safety/more_safe_prompts": {"refused": _rate(10, 100)},
        "safety/misuse": {"rta": _rate(80, 100)},
    })
    p = frontier_point(run)
    assert p["x_tasks"] == ["safety/exaggerated_safety", "safety/more_safe_prompts"]
    assert p["x"] == pytest.approx(30 / 200) and p["x_n"] == 200
