"""Model contract: every backend turns chat messages into text behind one async method."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class GenParams:
    """Generation settings; part of the cache key."""

    temperature: float = 0.0
    max_tokens: int | None = 512
    top_p: float | None = None
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class ModelError(Exception):
    """A failed model call. `transient` errors are retried; `retry_after` is in seconds.

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


class Model(ABC):
    """A model under test (or a judge model). Use as `async with model: ...`."""

    spec: str

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """What determines the outputs (cache key part): never base URLs or API keys."""

    def info(self) -> dict[str, Any]:
        """Manifest details: identity plus chat template / system prompt when known."""
        return self.identity()

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Acquire resources (start a server, open a client)."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release resources; must be safe to call twice."""

    @abstractmethod
    async def complete(self, messages: list[dict[str, str]], params: GenParams) -> Completion:
        """One chat completion. Raises ModelError."""

    async def __aenter__(self) -> Model:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
