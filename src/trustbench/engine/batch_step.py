"""Generate step through a batch API (`openai-batch:<model>`).

Uncached requests are submitted as batches of at most 50,000. Each batch id is recorded at once
in the run directory (batches.json) and in the cache, under a key derived from the batch's
request keys, so a re-run of the same command (even into a new run directory) resumes polling
the batch it already paid for instead of submitting it again. Results go into the same cache
as interactive calls; a request the batch did not answer is a failed item (rerun to retry it).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from trustbench.core.cache import Cache, cache_key
from trustbench.engine.generate import Generation, NoProgress, ProgressSink
from trustbench.engine.plan import Planned
from trustbench.engine.rundir import atomic_write
from trustbench.errors import TrustbenchError
from trustbench.models.base import Completion, ModelError
from trustbench.models.openai_batch import MAX_REQUESTS, TERMINAL, OpenAIBatchModel

STATE_FILE = "batches.json"


def _read_state(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {e["batch_id"]: e for e in data} if isinstance(data, list) else {}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


async def generate_batch(
    planned: Sequence[Planned],
    model: OpenAIBatchModel,
    cache: Cache,
    out_dir: Path,
    progress: ProgressSink | None = None,
    say: Callable[[str], None] = print,
) -> Generation:
    progress = progress or NoProgress()
    unique: dict[str, Planned] = {}
    counts: dict[str, int] = {}
    for p in planned:
        unique.setdefault(p.key, p)
        counts[p.key] = counts.get(p.key, 0) + 1
    stored = cache.get_many(list(unique))
    hits = sum(1 for p in planned if p.key in stored)
    progress.advance(hit=True, n=hits)
    gen = Generation(stored, cache_hits=hits)
    todo = sorted((p for k, p in unique.items() if k not in stored), key=lambda p: p.key)
    state_path = Path(out_dir) / STATE_FILE
    state = _read_state(state_path)

    def save_state() -> None:
        atomic_write(state_path, json.dumps(list(state.values()), indent=2))

    pending: list[tuple[str, list[Planned]]] = []
    for start in range(0, len(todo), MAX_REQUESTS):
        chunk = todo[start : start + MAX_REQUESTS]
        pointer = cache_key("batch", model.identity(), [p.key for p in chunk])
        entry = cache.get(pointer)
        if entry and not entry.get("done"):
            say(f"resuming batch {entry['batch_id']} ({len(chunk)} requests, submitted {entry.get('created_at')})")
        else:
            batch = await _call(model.submit([model.request_line(p.key, p.messages, p.params) for p in chunk],
                                             metadata={"trustbench_run": Path(out_dir).name}), "submit")
            entry = {"batch_id": str(batch.get("id")), "input_file_id": batch.get("input_file_id"), "pointer": pointer,
                     "requests": len(chunk), "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     "status": batch.get("status"), "done": False}
            cache.put(pointer, entry, kind="batch")
            say(f"submitted batch {entry['batch_id']} ({len(chunk)} requests)")
        state[entry["batch_id"]] = dict(entry)
        save_state()
        pending.append((entry["batch_id"], chunk))

    while pending:
        for batch_id, chunk in list(pending):
            try:
                batch = await model.retrieve(batch_id)
            except ModelError as e:
                if e.transient:
                    continue  # poll again
                raise TrustbenchError(f"batch {batch_id}: {e.reason} (rerun to resume polling)") from None
            status = str(batch.get("status"))
            state[batch_id].update(status=status, request_counts=batch.get("request_counts"))
            if status in TERMINAL:
                results = await _call(model.results(batch), f"batch {batch_id} results")
                _store(chunk, results, batch_id, status, cache, gen, counts, progress)
                state[batch_id]["done"] = True
                cache.put(state[batch_id]["pointer"], state[batch_id], kind="batch")
                pending.remove((batch_id, chunk))
            save_state()
        if pending:
            await asyncio.sleep(model.poll_interval)
    return gen


async def _call(coro: Any, what: str) -> Any:
    try:
        return await coro
    except ModelError as e:
        raise TrustbenchError(f"{what}: {e.reason}") from None


def _store(chunk: Sequence[Planned], results: dict[str, Completion | str], batch_id: str, status: str,
           cache: Cache, gen: Generation, counts: dict[str, int], progress: ProgressSink) -> None:
    for p in chunk:
        r = results.get(p.key)
        if isinstance(r, Completion):
            value = {"text": r.text, "finish_reason": r.finish_reason}
            cache.put(p.key, value)
            gen.responses[p.key] = value
            gen.fresh.add(p.key)
            progress.advance(n=counts[p.key])
        else:
            gen.errors[p.key] = r or f"batch {batch_id} ended '{status}' without a result for this request"
            progress.advance(failed=True, n=counts[p.key])
