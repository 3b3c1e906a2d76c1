"""Each task owns its judge prompt (Task.judge_templates); moving the text must not change it: the
version is part of every judge cache key, so cached verdicts stay valid only if text and version
stay together. Changing a prompt's text means bumping its version and this pin."""

from __future__ import annotations

import hashlib

from trustbench.judges.prompts import PROMPTS, get_prompt
from trustbench.tasks.registry import all_tasks

all_tasks()  # the task registry registers the judge prompts the tasks own

PINNED = {
    "advfact": ("1", "be64d4e3625910051b49e8262edf1dae6b8079c88933df0e3bd8415016458eb0"),
    "awareness_mission": ("1", "6893ced99753d74f97c9979fb69bbdcf16e6ef09371cae6a980ca1d6710bd42f"),
    "ddxplus": ("1", "1ce97ae9d99769c0b61576a89d747aec789c91dd1718405c6cc90c64a063a049"),
    "ethics": ("1", "4c038d9b1cd712a62fd936b333ff5dabca43b93dbfa01c4a2c59ccc735a7f4d6"),
    "qa_correct": ("1", "091b25e8de3290374b09016f99db846b558b2ffaa5b55c3ea3ab44436206ad66"),
    "stereotype_agreement": ("1", "ed3032c458ff668192659a24e10b29fdf94bdd0a697281ec42814600fdbec15c"),
    "stereotype_recognition": ("1", "092b306c779439632a4c7971878e16385404538cd4a38cb60598654527c7fe59"),
    "sycophancy_preference": ("1", "333037bca9ff78d3bb650b2f30d9b1940f1431e68a745f52af8042ee6c400196"),
}


def test_prompt_text_and_version_are_pinned():
    got = {n: (p.version, hashlib.sha256(p.text.encode()).hexdigest()) for n, p in PROMPTS.items()}
    assert got == PINNED


def test_every_prompt_comes_from_the_task_that_asks_for_it():
    owners = {t.name: [j.name for j in t.judge_templates] for t in all_tasks().values() if t.judge_templates}
    assert owners == {
        "truthfulness/internal": ["qa_correct"], "truthfulness/sycophancy": ["sycophancy_preference"],
        "truthfulness/golden_advfactuality": ["advfact"], "fairness/stereotype_recognition": ["stereotype_recognition"],
        "fairness/stereotype_agreement": ["stereotype_agreement"], "robustness/ood_generalization": ["ddxplus"],
        "ethics/implicit_ETHICS": ["ethics"], "ethics/awareness": ["awareness_mission"],
    }
    assert get_prompt("ethics").labels == ("Not sure", "Wrong", "Not wrong")
