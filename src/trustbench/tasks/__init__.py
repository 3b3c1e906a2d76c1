"""TrustLLM tasks: one `Task` per dataset file, registered by dimension."""

from trustbench.tasks.base import Item, JudgeRequest, Record, Task, TaskScore
from trustbench.tasks.registry import all_tasks, get_task, select_tasks

__all__ = [
    "Item",
    "JudgeRequest",
    "Record",
    "Task",
    "TaskScore",
    "all_tasks",
    "get_task",
    "select_tasks",
]
