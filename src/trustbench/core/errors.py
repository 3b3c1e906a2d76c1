"""Errors. User-facing ones: the CLI prints `str(err)` on one line and exits non-zero."""

from __future__ import annotations


class TrustbenchError(Exception):
    """An error caused by input or environment; its message is one line naming the culprit."""

    exit_code = 2


class DataError(TrustbenchError):
    """A dataset file or record is malformed. Message names file and record index."""


class SpecError(TrustbenchError):
    """A model, judge or task spec cannot be understood."""


class ModelError(Exception):
    """A failed model or judge call. `transient` errors are retried; `retry_after` is in seconds.

    `overload` marks 429/503-style back-pressure (the scheduler shrinks concurrency)."""

    def __init__(
        self,
        reason: str,
        *,
        transient: bool,
        retry_after: float | None = None,
        overload: bool = False,
        status: int | None = None,
    ):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.retry_after = retry_after
        self.overload = overload
        self.status = status
