"""`hf:<model id or path>`: Hugging Face transformers with batched generation.

Concurrent `complete` calls are gathered into micro-batches (left padding, the model's own
chat template), so the engine's scheduler drives this backend like any server.
`hf:PATH.gguf` loads a GGUF file through transformers' `gguf_file=` support.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustbench.errors import SpecError, TrustbenchError
from trustbench.models.base import Completion, GenParams, Model, ModelError


@dataclass
class _Request:
    messages: list[dict[str, str]]
    params: GenParams
    future: asyncio.Future[Completion]


class HFModel(Model):
    """Loads the model once; a worker batches up to `batch_size` requests with equal params."""

    def __init__(self, name: str, *, spec: str, batch_size: int = 8, wait_ms: float = 20.0, device: str = "cpu"):
        self.name = name
        self.spec = spec
        self.batch_size = batch_size
        self.wait = wait_ms / 1000
        self.device = device
        path = Path(name).expanduser()
        if path.suffix.lower() == ".gguf":
            if not path.is_file():
                raise SpecError(f"model {spec}: GGUF file {path} not found")
            self._source, self._gguf = str(path.parent), path.name
        else:
            self._source, self._gguf = name, None
        self._model: Any = None
        self._tok: Any = None
        self._queue: asyncio.Queue[_Request] | None = None
        self._worker: asyncio.Task[None] | None = None

    def identity(self) -> dict[str, Any]:
        ident: dict[str, Any] = {"backend": "transformers", "model": Path(self._source).name if self._gguf else self.name}
        if self._gguf:
            ident["gguf"] = self._gguf
        return ident

    def info(self) -> dict[str, Any]:
        return {
            **self.identity(),
            "chat_template": getattr(self._tok, "chat_template", None),
            "system_prompt": None,
            "batch_size": self.batch_size,
            "padding_side": "left",
        }

    async def start(self) -> None:
        if self._model is None:
            await asyncio.to_thread(self._load)
        if self._worker is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._serve())

    def _load(self) -> None:
        try:
            import torch  # noqa: F401
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise TrustbenchError("hf: models need transformers and torch: pip install 'trustbench[hf]'") from None
        kw: dict[str, Any] = {"gguf_file": self._gguf} if self._gguf else {}
        try:
            self._tok = AutoTokenizer.from_pretrained(self._source, **kw)
            self._model = AutoModelForCausalLM.from_pretrained(self._source, **kw).to(self.device).eval()
        except (OSError, ValueError) as e:
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise TrustbenchError(f"model {self.spec}: cannot load ({msg})") from None
        self._tok.padding_side = "left"
        if self._tok.pad_token is None:
            self._tok.pad_token = self._tok.eos_token

    async def count_tokens(self, conversations: list[list[dict[str, str]]]) -> tuple[list[int], str] | None:
        """Counted with the model's tokenizer and chat template (the weights are not loaded)."""
        tok = self._tok or await asyncio.to_thread(self._load_tokenizer)

        def count() -> list[int]:  # the prompt exactly as _generate builds it
            prompts = [tok.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in conversations]
            return [len(ids) for ids in tok(prompts, add_special_tokens=False)["input_ids"]]

        return await asyncio.to_thread(count), f"the tokenizer and chat template of {self.name}"

    def _load_tokenizer(self) -> Any:
        try:
            from transformers import AutoTokenizer
        except ImportError:
            raise TrustbenchError("hf: models need transformers: pip install 'trustbench[hf]'") from None
        kw: dict[str, Any] = {"gguf_file": self._gguf} if self._gguf else {}
        try:
            return AutoTokenizer.from_pretrained(self._source, **kw)
        except (OSError, ValueError) as e:
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise TrustbenchError(f"model {self.spec}: cannot load its tokenizer ({msg})") from None

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
            self._worker = None

    async def complete(self, messages: list[dict[str, str]], params: GenParams) -> Completion:
        if self._queue is None:
            await self.start()
        assert self._queue is not None
        fut: asyncio.Future[Completion] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Request(messages, params, fut))
        return await fut

    async def _serve(self) -> None:
        assert self._queue is not None
        pending: list[_Request] = []
        while True:
            if not pending:
                pending.append(await self._queue.get())
            deadline = asyncio.get_running_loop().time() + self.wait
            while len(pending) < self.batch_size * 4:
                timeout = deadline - asyncio.get_running_loop().time()
                if timeout <= 0:
                    break
                try:
                    pending.append(await asyncio.wait_for(self._queue.get(), timeout))
                except TimeoutError:
                    break
            params = pending[0].params
            batch = [r for r in pending if r.params == params][: self.batch_size]
            pending = [r for r in pending if r not in batch]
            live = [r for r in batch if not r.future.done()]
            if not live:
                continue
            try:
                texts = await asyncio.to_thread(self._generate, [r.messages for r in live], params)
            except Exception as e:  # a failed batch fails its requests, not the worker
                for r in live:
                    if not r.future.done():
                        r.future.set_exception(ModelError(f"generation failed: {e}", transient=False))
                continue
            for r, (text, n_prompt, n_out) in zip(live, texts, strict=True):
                if not r.future.done():
                    r.future.set_result(Completion(text=text, finish_reason=None, prompt_tokens=n_prompt, completion_tokens=n_out))

    def _generate(self, batch: list[list[dict[str, str]]], params: GenParams) -> list[tuple[str, int, int]]:
        import torch

        prompts = [self._tok.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in batch]
        enc = self._tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        sample = (params.temperature or 0.0) > 1e-5
        kw: dict[str, Any] = {
            "max_new_tokens": params.max_tokens or 512,
            "do_sample": sample,
            "pad_token_id": self._tok.pad_token_id,
        }
        if sample:
            kw["temperature"] = params.temperature
            if params.top_p is not None:
                kw["top_p"] = params.top_p
            if params.seed is not None:
                torch.manual_seed(params.seed)
        with torch.inference_mode():
            out = self._model.generate(**enc, **kw)
        width = enc["input_ids"].shape[1]
        results = []
        for i in range(len(batch)):
            new = out[i, width:]
            text = self._tok.decode(new, skip_special_tokens=True, spaces_between_special_tokens=False)
            n_out = int((new != self._tok.pad_token_id).sum())
            results.append((text.strip(), int(enc["attention_mask"][i].sum()), n_out))
        return results
