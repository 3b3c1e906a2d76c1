"""`JudgeSet`: the judges of one run, keyed by the verdict kind each one answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trustbench.core.cache import Cache
from trustbench.core.judge import CachedJudge, Judge

BUILTIN_KINDS = ("refusal", "toxicity", "embedding", "llm")


@dataclass
class JudgeSet:
    """The judges of one run; None where not configured. `extra` holds plugin judges of other
    kinds. `cache` is the run's cache, used by the wrappers (`runner`) the engine applies."""

    refusal: Judge
    llm: Judge | None = None
    embedder: Judge | None = None
    toxicity: Judge | None = None
    extra: dict[str, Judge] = field(default_factory=dict)
    cache: Cache | None = None
    errors: dict[str, int] = field(default_factory=dict)
    runners: dict[str, CachedJudge] = field(default_factory=dict)

    def by_kind(self) -> dict[str, Judge]:
        """Every configured judge by the kind of verdict it gives."""
        table: dict[str, Judge | None] = {"refusal": self.refusal, "toxicity": self.toxicity,
                                          "embedding": self.embedder, "llm": self.llm, **self.extra}
        return {k: j for k, j in table.items() if j is not None}

    def runner(self, kind: str) -> CachedJudge | None:
        """The judge of `kind` inside the caching, retrying wrapper (one per kind and run)."""
        if kind not in self.runners:
            judge = self.by_kind().get(kind)
            if judge is None:
                return None
            self.runners[kind] = CachedJudge(judge, self.cache)
        return self.runners[kind]

    def identities(self) -> dict[str, Any]:
        out = {
            "refusal": self.refusal.identity(),
            "llm": self.llm.identity() if self.llm else None,
            "embedding": self.embedder.identity() if self.embedder else None,
            "toxicity": self.toxicity.identity() if self.toxicity else None,
        }
        out.update({k: j.identity() for k, j in self.extra.items()})
        return out

    def error_rates(self) -> dict[str, Any]:
        """Measured judge error per verdict key, for intervals that propagate it."""
        from trustbench.judges.refusal import measured_error_rates

        rates = measured_error_rates(self.refusal)  # type: ignore[arg-type]
        return {"refusal": rates} if rates else {}

    async def aclose(self) -> None:
        """Stop what the judges started (a managed server, an HTTP session)."""
        for judge in self.by_kind().values():
            close = getattr(judge, "aclose", None)
            if close is not None:
                await close()

    def name_for(self, kind: str) -> str | None:
        judge = self.by_kind().get(kind)
        if judge is None:
            return None
        ident = judge.identity()
        return ident.get("name", ident.get("model"))
