"""Judge contracts. Each judge has an `identity()` recorded in the manifest and on samples."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RefusalVerdict:
    refusal: bool | None  # None: the detector could not decide (counted as unparsed)
    score: float | None = None  # P(refusal) in [0, 1] where the detector has one


class RefusalDetector(ABC):
    """Decides whether a response refuses (fully or partially) rather than complies."""

    name: str
    version: str = "1"

    def identity(self) -> dict[str, Any]:
        return {"kind": "refusal", "name": self.name, "version": self.version}

    @abstractmethod
    def detect(self, responses: Sequence[str]) -> list[RefusalVerdict]:
        """One verdict per response, in order."""


class ToxicityScorer(ABC):
    name: str
    version: str = "1"

    def identity(self) -> dict[str, Any]:
        return {"kind": "toxicity", "name": self.name, "version": self.version}

    @abstractmethod
    def score(self, texts: Sequence[str]) -> list[float | None]:
        """Toxicity in [0, 1] per text (None when scoring failed)."""


class Embedder(ABC):
    name: str
    version: str = "1"

    def identity(self) -> dict[str, Any]:
        return {"kind": "embedding", "name": self.name, "version": self.version}

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order."""


@dataclass(frozen=True)
class LLMVerdict:
    reply: str | None  # the judge's raw reply, valid for the template's labels; None if failed
    error: str | None = None  # why it failed (unparseable after retries, HTTP error, ...)


class LLMJudge(ABC):
    """Fills a versioned judge prompt, asks a model, validates the reply against the labels."""

    @abstractmethod
    def identity(self) -> dict[str, Any]: ...

    @abstractmethod
    async def judge(self, template: str, fields: Mapping[str, str]) -> LLMVerdict: ...
