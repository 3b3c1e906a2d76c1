"""SmolLM2-135M throughput: trustbench's engine vs one-at-a-time loops.

    python bench/bench_smollm2.py [--n 200] [--hf-n 20]

Same 200 prompts, max_tokens 64, temperature 0, measured side by side in one run:
  A. trustbench engine (adaptive concurrency) over the managed llama.cpp server;
  B. a sequential one-at-a-time loop over the same server;
  C. transformers generating one prompt at a time (TrustLLM's local path), on the first
     --hf-n prompts (it is slow; prompts/s is what is compared).
Prints prompts/s for each and the ratios A/B and A/C.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from trustbench.core.scheduler import AdaptiveLimiter, Scheduler
from trustbench.models.base import GenParams
from trustbench.models.local import smollm2_path
from trustbench.models.spec import load_model

TOPICS = ["rivers", "volcanoes", "bread", "bicycles", "owls", "glass", "tides", "chess", "copper", "maple trees"]
ASKS = ["Explain briefly how {t} work.", "Give two facts about {t}.", "Write one sentence about {t}.",
        "Why do people care about {t}?", "Describe {t} to a child.", "What is a common myth about {t}?",
        "List three words related to {t}.", "How would you test a claim about {t}?",
        "What is surprising about {t}?", "Summarise the history of {t} in one line.",
        "Compare {t} with something similar.", "What questions do experts ask about {t}?",
        "How do {t} change over time?", "Give a safety tip involving {t}.", "Name a job that involves {t}.",
        "What would happen without {t}?", "Write a haiku about {t}.", "Pose a riddle about {t}.",
        "What is a good first book about {t}?", "Define {t} in plain words."]


def prompts(n: int) -> list[list[dict[str, str]]]:
    out = [ask.format(t=t) for ask in ASKS for t in TOPICS]
    return [[{"role": "user", "content": p}] for p in out[:n]]


PARAMS = GenParams(temperature=0.0, max_tokens=64)


async def engine(msgs) -> float:
    model = load_model("local:smollm2")
    async with model:
        sched = Scheduler(AdaptiveLimiter(initial=8, maximum=64))
        t0 = time.perf_counter()
        await asyncio.gather(*(sched.call(lambda m=m: model.complete(m, PARAMS)) for m in msgs))
        return len(msgs) / (time.perf_counter() - t0)


async def sequential(msgs) -> float:
    model = load_model("local:smollm2")
    async with model:
        t0 = time.perf_counter()
        for m in msgs:
            await model.complete(m, PARAMS)
        return len(msgs) / (time.perf_counter() - t0)


def transformers_one_at_a_time(msgs) -> float:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = smollm2_path()
    tok = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name).eval()
    t0 = time.perf_counter()
    for m in msgs:
        text = tok.apply_chat_template(m, tokenize=False, add_generation_prompt=True)
        enc = tok(text, return_tensors="pt")
        with torch.inference_mode():
            model.generate(**enc, max_new_tokens=64, do_sample=False, pad_token_id=tok.eos_token_id)
    return len(msgs) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--hf-n", type=int, default=20)
    a = ap.parse_args()
    msgs = prompts(a.n)
    rate_engine = asyncio.run(engine(msgs))
    print(f"A engine, managed llama.cpp, {a.n} prompts: {rate_engine:.2f} prompts/s")
    rate_seq = asyncio.run(sequential(msgs))
    print(f"B sequential loop, same server, {a.n} prompts: {rate_seq:.2f} prompts/s")
    rate_hf = transformers_one_at_a_time(msgs[: a.hf_n])
    print(f"C transformers one at a time, first {a.hf_n} prompts: {rate_hf:.2f} prompts/s")
    print(f"ratio A/B = {rate_engine / rate_seq:.2f}x; ratio A/C = {rate_engine / rate_hf:.2f}x")


if __name__ == "__main__":
    main()
