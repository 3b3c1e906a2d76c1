"""Model specs `<backend>:<name>` and the registry of backends: `openai`, `openai-batch`,
`anthropic`, `litellm`, `local`, `hf` built in, and plugins registered under the entry point group `trustbench.models`.

A backend is a factory `factory(name, *, spec, base_url) -> Model` (`name`: the text after
`<backend>:`; `base_url`: --base-url or None). Built-in names cannot be taken by a plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustbench.core.plugins import plugins
from trustbench.errors import SpecError
from trustbench.models.base import Model

GROUP = "trustbench.models"
SPEC_HELP = ("use openai:<model>, openai-batch:<model>, anthropic:<model>, litellm:<model>, local:smollm2, "
             "local:PATH.gguf or hf:<model id or path>")


def _openai(name: str, *, spec: str, base_url: str | None = None, **_: Any) -> Model:
    from trustbench.models.openai_http import OpenAIChatModel, parse_base_urls

    return OpenAIChatModel(name, parse_base_urls(base_url) or None, spec=spec)


def _openai_batch(name: str, *, spec: str, base_url: str | None = None, **_: Any) -> Model:
    from trustbench.models.openai_batch import OpenAIBatchModel

    return OpenAIBatchModel(name, base_url, spec=spec)


def _anthropic(name: str, *, spec: str, base_url: str | None = None, **_: Any) -> Model:
    from trustbench.models.anthropic_http import AnthropicModel
    from trustbench.models.openai_http import parse_base_urls

    return AnthropicModel(name, parse_base_urls(base_url) or None, spec=spec)


def _litellm(name: str, *, spec: str, base_url: str | None = None, **_: Any) -> Model:
    from trustbench.models.litellm_model import LiteLLMModel

    return LiteLLMModel(name, spec=spec, base_url=base_url)


def _local(name: str, *, spec: str, n_parallel: int | None = None, **_: Any) -> Model:
    from trustbench.models.local import SMOLLM2_SLOTS, LocalLlamaModel, smollm2_path

    if name == "smollm2":
        # Q8_0 weights and 16 slots a server: 1.32x the calls/s of the shipped Q4_1 file with 4 (bench/RESULTS.md)
        sizing = {"n_parallel": n_parallel} if n_parallel else {"slots": SMOLLM2_SLOTS}
        return LocalLlamaModel(smollm2_path(), spec=spec, q8=True, **sizing)
    path = Path(name).expanduser()
    if path.suffix.lower() != ".gguf":
        raise SpecError(f"bad model spec {spec!r}: local: takes smollm2 or a path to a .gguf file")
    return LocalLlamaModel(path, spec=spec, n_parallel=n_parallel or 8)


def _hf(name: str, *, spec: str, **_: Any) -> Model:
    from trustbench.models.hf import HFModel

    return HFModel(name, spec=spec)


@dataclass(frozen=True)
class Backend:
    name: str
    factory: Callable[..., Model] | None  # None: a plugin not loaded yet
    source: str  # "trustbench" or "<distribution> <version>"
    base_url: bool  # whether --base-url applies


BUILTIN = {"openai": Backend("openai", _openai, "trustbench", True),
           "openai-batch": Backend("openai-batch", _openai_batch, "trustbench", True),
           "anthropic": Backend("anthropic", _anthropic, "trustbench", True),
           "litellm": Backend("litellm", _litellm, "trustbench", True),
           "local": Backend("local", _local, "trustbench", False),
           "hf": Backend("hf", _hf, "trustbench", False)}


def backends() -> dict[str, Backend]:
    """Every backend by name: the built-ins, then plugins (not loaded until used)."""
    out = dict(BUILTIN)
    for name, p in plugins(GROUP).items():
        out.setdefault(name, Backend(name, None, p.source, True))
    return out


def load_model(spec: str, *, base_url: str | None = None, n_parallel: int | None = None) -> Model:
    """Build (but do not start) the model a spec names. Raises SpecError with a one-line message.
    n_parallel: slots in all of a managed server (default: the backend's)."""
    kind, sep, rest = (spec or "").partition(":")
    if not sep or not rest.strip():
        raise SpecError(f"bad model spec {spec!r}: {SPEC_HELP}")
    rest = rest.strip()
    table = backends()
    backend = table.get(kind)
    if base_url and not (backend and backend.base_url):
        with_url = ", ".join(f"{k}:" for k, b in table.items() if b.base_url and k in BUILTIN)
        raise SpecError(f"--base-url applies to {with_url} specs, not {spec!r}")
    if backend is None:
        extra = sorted(set(table) - set(BUILTIN))
        more = f" (plugins: {', '.join(extra)})" if extra else ""
        raise SpecError(f"bad model spec {spec!r}: unknown backend {kind!r}; {SPEC_HELP}{more}")
    if backend.factory is not None:
        return backend.factory(rest, spec=spec, base_url=base_url, n_parallel=n_parallel)
    factory = plugins(GROUP)[kind].load()
    try:
        model = factory(rest, spec=spec, base_url=base_url)
    except SpecError:
        raise
    except Exception as e:  # noqa: BLE001 - third-party code: one line, naming the spec
        raise SpecError(f"model {spec!r} ({backend.source}): {type(e).__name__}: {e}") from None
    if not isinstance(model, Model):
        raise SpecError(f"model {spec!r} ({backend.source}): the plugin returned {type(model).__name__}, "
                        "not a trustbench.models.base.Model")
    return model
