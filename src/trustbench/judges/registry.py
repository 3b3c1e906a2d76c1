"""Judges by kind and name: the built-ins and plugins (entry point group `trustbench.judges`).

A judge option (`--refusal-detector`, `--judge`, `--embedder`, `--toxicity`) takes a spec
`<name>[:<argument>]`. Built-in names are resolved by trustbench's own factories; any other name
is looked up among the plugins. A plugin is a class or function with a `kind` attribute (the
verdict kind it gives: `refusal`, `llm`, `embedding`, `toxicity`, or a kind of its own for tasks
that ask for it); called with the argument (the text after `<name>:`, "" if none), it returns a
judge implementing `trustbench.core.judge.Judge`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trustbench.core.cache import Cache
from trustbench.core.judge import Judge
from trustbench.core.plugins import plugins
from trustbench.errors import SpecError

GROUP = "trustbench.judges"
NONE_SPECS = ("", "none", "off", "no")
OPTION = {"refusal": "--refusal-detector", "llm": "--judge", "embedding": "--embedder", "toxicity": "--toxicity"}


@dataclass(frozen=True)
class JudgeEntry:
    kind: str
    name: str
    source: str  # "trustbench" or "<distribution> <version>"


def builtin_names(kind: str) -> tuple[str, ...]:
    """The names trustbench resolves itself for a judge kind (the spec's part before ':')."""
    if kind == "refusal":
        from trustbench.judges.refusal import DETECTOR_NAMES

        return tuple(n.partition(":")[0] for n in DETECTOR_NAMES)
    if kind == "llm":  # a model spec: the LLM judge runs on any model backend
        from trustbench.models.spec import backends

        return tuple(backends())
    if kind == "embedding":
        return ("minilm", "openai")
    if kind == "toxicity":
        from trustbench.judges.toxicity import OfflineToxicity

        return ("offline", OfflineToxicity.name, "perspective")
    return ()


def registry() -> list[JudgeEntry]:
    """Every judge name by kind, built-in and plugin (plugins are loaded to read their kind)."""
    out = [JudgeEntry(k, n, "trustbench") for k in OPTION for n in builtin_names(k) if k != "llm"]
    for name, p in plugins(GROUP).items():
        out.append(JudgeEntry(str(getattr(p.load(), "kind", "?")), name, p.source))
    return out


def plugin_kind_judges() -> dict[str, Judge]:
    """One judge per verdict kind that no option names (a kind of a plugin's own), built from
    the first plugin giving it with an empty argument, so tasks that ask for it are served."""
    out: dict[str, Judge] = {}
    for name, plugin in plugins(GROUP).items():
        obj = plugin.load()
        kind = getattr(obj, "kind", None)
        if isinstance(kind, str) and kind not in OPTION and kind not in out:
            out[kind] = _from_plugin(kind, name, obj, "", plugin.source)
    return out


def make_judge(kind: str, spec: str | None, *, cache: Cache | None = None,
               base_url: str | None = None) -> Judge | None:
    """The judge of `kind` a spec names, or None for none (not for the refusal detector)."""
    spec = (spec or "").strip()
    if kind != "refusal" and spec.lower() in NONE_SPECS:
        return None
    name, _, arg = spec.partition(":")
    if name not in builtin_names(kind):
        plugin = plugins(GROUP).get(name)
        if plugin is not None:
            return _from_plugin(kind, spec, plugin.load(), arg, plugin.source)
    return _builtin(kind, spec, cache, base_url)


def _from_plugin(kind: str, spec: str, obj: Any, arg: str, source: str) -> Judge:
    got = getattr(obj, "kind", None)
    if got != kind:
        raise SpecError(f"{OPTION.get(kind, kind)} {spec!r}: the plugin ({source}) gives {got!r} verdicts, not {kind!r}")
    try:
        judge = obj(arg)
    except SpecError:
        raise
    except Exception as e:  # noqa: BLE001 - third-party code: one line, naming the spec
        raise SpecError(f"{OPTION.get(kind, kind)} {spec!r} ({source}): {type(e).__name__}: {e}") from None
    for attr in ("kind", "name", "identity", "cache_parts", "answer", "decode"):
        if not hasattr(judge, attr):
            raise SpecError(f"{OPTION.get(kind, kind)} {spec!r} ({source}): the judge has no {attr!r} "
                            "(see trustbench.core.judge.Judge)")
    return judge


def _builtin(kind: str, spec: str, cache: Cache | None, base_url: str | None) -> Judge | None:
    try:
        if kind == "refusal":
            from trustbench.judges.refusal import make_refusal_detector

            return make_refusal_detector(spec)
        if kind == "llm":
            from trustbench.judges.llm import make_llm_judge

            return make_llm_judge(spec, cache, base_url=base_url)
        if kind == "embedding":
            from trustbench.judges.embeddings import make_embedder

            return make_embedder(spec, cache=cache)
        if kind == "toxicity":
            from trustbench.judges.toxicity import make_toxicity

            return make_toxicity(spec, cache=cache)
    except SpecError as e:
        extra = sorted(e.name for e in registry() if e.kind == kind and e.source != "trustbench")
        raise SpecError(str(e) + (f" (plugins: {', '.join(extra)})" if extra else "")) from None
    raise SpecError(f"unknown judge kind {kind!r}: choose one of {', '.join(OPTION)}")
