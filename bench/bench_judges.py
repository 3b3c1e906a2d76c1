"""Throughput of the offline judges on CPU: MiniLM embeddings and the offline toxicity scorer.

Workloads sized like TrustLLM's (method §4):
- embeddings: 1,137 texts = sycophancy persona 179 x 3 (prompt, n_completion, s_completion as
  stand-ins for res / n / s) + AdvInstruction 600 prompts (179 x 3 + 600 = 1,137, not 779);
- toxicity: 1,400 texts = the jailbreak prompts (stand-ins for the responses; mean 68 words), and
  the same 1,400 padded to ~250 words (long responses: the scorer then also reads word windows).
No cache is used; model loading is timed separately. Optional: `--judge local:smollm2 --judge-n 40`
times the LLM judge (advfact template) on a real local model and reports its parse rate.

    HF_HUB_OFFLINE=1 python bench/bench_judges.py [--data ../shared/data/trustllm] [--judge local:smollm2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from trustbench.judges.embeddings import MiniLMEmbedder
from trustbench.judges.toxicity import OfflineToxicity


def load(data: Path, rel: str) -> list[dict]:
    return json.loads((data / rel).read_text(encoding="utf-8"))


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def pad(text: str, words: int = 250) -> str:
    base = text.split() or ["empty"]
    out: list[str] = []
    while len(out) < words:
        out.extend(base)
    return " ".join(out[:words])


async def bench_judge(spec: str, n: int, data: Path) -> dict:
    from trustbench.judges.llm import make_llm_judge

    recs = load(data, "truthfulness/golden_advfactuality.json")[:n]
    judge = make_llm_judge(spec, None)
    assert judge is not None
    t0 = time.perf_counter()
    await judge.start()
    start_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    verdicts = await asyncio.gather(*(
        judge.judge("advfact", {"misinformation": str(r.get("modified knowledge", "")), "user_input": r["prompt"],
                                "response": r["prompt"]})  # the prompt stands in for a response
        for r in recs
    ))
    secs = time.perf_counter() - t1
    await judge.aclose()
    ok = sum(v.reply is not None for v in verdicts)
    return {"spec": spec, "n": len(recs), "start_s": round(start_s, 1), "seconds": round(secs, 1),
            "verdicts_per_s": round(len(recs) / secs, 2), "model_calls": judge.requests, "parsed": ok,
            "parse_rate": round(ok / len(recs), 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "trustllm"))
    ap.add_argument("--judge", default=None, help="also time an LLM judge, e.g. local:smollm2")
    ap.add_argument("--judge-n", type=int, default=40)
    ap.add_argument("--json", default=None, help="write the numbers here")
    args = ap.parse_args()
    data = Path(args.data)

    persona = [r for r in load(data, "truthfulness/sycophancy.json") if r.get("source") == "persona"]
    adv = load(data, "robustness/AdvInstruction.json")
    emb_texts = [t for r in persona for t in (r["prompt"], r["n_completion"], r["s_completion"])]
    emb_texts += [r["prompt"] for r in adv]
    tox_texts = [r["prompt"] for r in load(data, "safety/jailbreak.json")]
    tox_long = [pad(t) for t in tox_texts]

    emb = MiniLMEmbedder()
    _, load_s = timed(lambda: emb.model)
    emb.embed(["warm-up"])
    vecs, emb_s = timed(emb.embed, emb_texts)
    assert len(vecs) == len(emb_texts) == 179 * 3 + 600 and len(vecs[0]) == 384

    tox = OfflineToxicity()
    tox.check()  # load the tokenizer outside the timing
    scores, tox_s = timed(tox.score, tox_texts)
    _scores_long, tox_long_s = timed(tox.score, tox_long)
    assert len(scores) == len(tox_texts) == 1400

    res = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "minilm_load_s": round(load_s, 2),
        "embeddings": {"texts": len(emb_texts), "seconds": round(emb_s, 2), "per_s": round(len(emb_texts) / emb_s, 1)},
        "toxicity_68w": {"texts": len(tox_texts), "seconds": round(tox_s, 2), "per_s": round(len(tox_texts) / tox_s, 1),
                         "mean_score": round(sum(scores) / len(scores), 3)},
        "toxicity_250w": {"texts": len(tox_long), "seconds": round(tox_long_s, 2),
                          "per_s": round(len(tox_long) / tox_long_s, 1)},
    }
    if args.judge:
        res["llm_judge"] = asyncio.run(bench_judge(args.judge, args.judge_n, data))
    print(json.dumps(res, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
