"""Inspect AI task for bench/bench_peers.py: each prompt as one user message, generate, no scorer."""

from inspect_ai import Task, task
from inspect_ai.dataset import json_dataset
from inspect_ai.solver import generate


@task
def prompts(dataset: str) -> Task:
    return Task(dataset=json_dataset(dataset), solver=generate())
