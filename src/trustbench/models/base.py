"""Model contract: every backend turns chat messages into text behind one async method."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from trustbench.core.errors import ModelError

__all__ = ["Completion", "GenParams", "Model", "ModelError"]


@dataclass(frozen=True)
class GenParams:
    """Generation settings; part of the cache key."""

    temperature: float = 0.0
    max_tokens: int | None = 512
    top_p: float | None = None
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}  # scalars: no deep copy


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


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

    async def count_tokens(self, conversations: list[list[dict[str, str]]]) -> tuple[list[int], str] | None:
        """Prompt tokens of each conversation with the model's own tokenizer and chat template,
        and the tokenizer's name; None when the backend has no local tokenizer (`trustbench plan`
        then estimates from characters). May start the model."""
        return None

    async def __aenter__(self) -> Model:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
