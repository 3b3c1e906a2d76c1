"""Parse model specs: `openai:<model>`, `local:smollm2`, `local:PATH.gguf`, `hf:<id or path>`."""

from __future__ import annotations

from pathlib import Path

from trustbench.errors import SpecError
from trustbench.models.base import Model

SPEC_HELP = "use openai:<model>, local:smollm2, local:PATH.gguf or hf:<model id or path>"


def load_model(spec: str, *, base_url: str | None = None, n_parallel: int = 8) -> Model:
    """Build (but do not start) the model a spec names. Raises SpecError with a one-line message."""
    kind, sep, rest = (spec or "").partition(":")
    if not sep or not rest.strip():
        raise SpecError(f"bad model spec {spec!r}: {SPEC_HELP}")
    rest = rest.strip()
    if kind == "openai":
        from trustbench.models.openai_http import OpenAIChatModel, parse_base_urls

        return OpenAIChatModel(rest, parse_base_urls(base_url) or None, spec=spec)
    if base_url:
        raise SpecError(f"--base-url applies to openai:<model> specs, not {spec!r}")
    if kind == "local":
        from trustbench.models.local import LocalLlamaModel, smollm2_path

        if rest == "smollm2":
            return LocalLlamaModel(smollm2_path(), spec=spec, n_parallel=n_parallel)
        path = Path(rest).expanduser()
        if path.suffix.lower() != ".gguf":
            raise SpecError(f"bad model spec {spec!r}: local: takes smollm2 or a path to a .gguf file")
        return LocalLlamaModel(path, spec=spec, n_parallel=n_parallel)
    if kind == "hf":
        from trustbench.models.hf import HFModel

        return HFModel(rest, spec=spec)
    raise SpecError(f"bad model spec {spec!r}: unknown backend {kind!r}; {SPEC_HELP}")
