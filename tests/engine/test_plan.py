"""`trustbench plan`, the run's opening line and `run --max-cost`: counts, tokens, time, cost."""

from __future__ import annotations

import asyncio
import json

import pytest
from tbhelp import assert_ok, cli, planned_prompts, run_args

from trustbench.cli import app
from trustbench.engine.preflight import plan_async
from trustbench.engine.runner import RunConfig
from trustbench.models.openai_http import OpenAIChatModel
from trustbench.plan import estimate_tokens, lookup_price, price_for, price_table, usd


def plan_args(url, data, cache, *extra, model="openai:gpt-4o-mini"):
    return [a for a in run_args(url, data, data.parent / "unused", cache, *extra, model=model)
            if a != "run"]


def _one_error_line(r) -> str:
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0]


def test_plan_has_exactly_the_options_of_run():
    import typer.main

    cmd = typer.main.get_command(app)
    names = {c: {o for p in cmd.commands[c].params for o in p.opts} for c in ("run", "plan")}
    assert names["run"] == names["plan"]
    assert {"--max-cost", "--price-in", "--price-out", "--max-items", "--max-prompt-chars"} <= names["plan"]


def test_plan_counts_calls_and_prices_without_calling_the_model(server, suite, tmp_path):
    r = cli(["plan", *plan_args(server.url, suite, tmp_path / "c.sqlite")])
    assert_ok(r)
    assert server.state.requests == 0
    prompts = list(planned_prompts(suite, model="gpt-4o-mini").values())
    tokens = sum(estimate_tokens(p) for p in prompts)
    pin, pout = lookup_price("openai:gpt-4o-mini")
    bound = 18 * 512  # TrustLLM suite: the tasks' own max_tokens
    cost_max = (tokens * pin + bound * pout) / 1e6
    out = r.stdout
    assert "items:          18 in 3 tasks (0 with a cached response)" in out
    assert "model calls:    18 to openai:gpt-4o-mini" in out
    assert f"prompt tokens:  {tokens:,} (estimated as characters/4)" in out
    assert f"at most {bound:,} (max_tokens bound)" in out
    assert f"up to {usd(cost_max)}" in out and f"price table {price_table()['as_of']}" in out
    assert "no measured rate for this model yet" in out


def test_plan_after_a_run_uses_the_cache_and_the_measured_rate(server, suite, tmp_path):
    cache = tmp_path / "c.sqlite"
    assert_ok(cli(run_args(server.url, suite, tmp_path / "run", cache, "--tasks", "safety/misuse")))
    r = cli(["plan", *plan_args(server.url, suite, cache, model="openai:fake")])
    assert_ok(r)
    assert "items:          18 in 3 tasks (6 with a cached response)" in r.stdout
    assert "model calls:    12 to openai:fake" in r.stdout
    assert "mean of 6 cached responses of this model" in r.stdout
    assert "12 model calls at" in r.stdout and "measured on the last run" in r.stdout
    assert "no price for openai:fake" in r.stdout


def test_run_prints_the_plans_first_line(server, suite, tmp_path):
    r = cli(run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite", "--price-in", "1", "--price-out", "2"))
    assert_ok(r)
    first = r.stdout.splitlines()[0]
    assert first.startswith("18 items in 3 tasks; 18 need the model; ~")
    assert "prompt tokens (estimated as characters/4)" in first
    assert "cost up to $0.02" in first and "--price-in/--price-out" in first  # 18*512*2/1e6 + prompts


@pytest.mark.parametrize("model, extra, fragment", [
    ("openai:gpt-4o", ["--max-cost", "0.01"], "--max-cost: planned cost up to $0.09 is above $0.01"),
    ("openai:fake", ["--max-cost", "100"], "--max-cost: cannot bound the cost (no price for openai:fake"),
    ("openai:fake", ["--max-cost", "-1"], "--max-cost: must be a non-negative number"),
    ("openai:fake", ["--price-in", "nan", "--price-out", "1"], "--price-in: must be a non-negative number"),
])
def test_max_cost_refuses_before_any_request(server, suite, tmp_path, model, extra, fragment):
    r = cli(run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite", *extra, model=model))
    assert r.exit_code == 2
    assert fragment in _one_error_line(r)
    assert server.state.requests == 0
    assert not (tmp_path / "run").exists()  # refused before the run directory is made


def test_max_cost_within_budget_runs(server, suite, tmp_path):
    r = cli(run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite", "--max-cost", "1",
                     model="openai:gpt-4o-mini"))
    assert_ok(r)
    assert server.state.completed == 18


def test_plan_with_max_cost_prints_the_plan_then_the_refusal(server, suite, tmp_path):
    r = cli(["plan", *plan_args(server.url, suite, tmp_path / "c.sqlite", "--max-cost", "0")])
    assert r.exit_code == 2
    assert "model calls:    18" in r.stdout
    assert "--max-cost: planned cost" in _one_error_line(r)


def test_llm_refusal_detector_calls_are_judge_calls(server, suite, tmp_path):
    r = cli(["plan", *plan_args(server.url, suite, tmp_path / "c.sqlite")])
    assert_ok(r)
    assert "judge calls:    up to 0 (no metric here needs an LLM judge)" in r.stdout
    args = plan_args(server.url, suite, tmp_path / "c.sqlite")
    i = args.index("--refusal-detector")
    args[i + 1] = "llm:openai:gpt-4o-mini"
    r = cli(["plan", *args])
    assert_ok(r)
    assert "judge calls:    up to 18" in r.stdout and "18 refusal verdicts from openai:gpt-4o-mini" in r.stdout
    assert "; judge openai:gpt-4o-mini ~$" in r.stdout


class CountingModel(OpenAIChatModel):
    async def count_tokens(self, conversations):
        return [len(m[-1]["content"].split()) for m in conversations], "a word counter"


def test_a_backend_tokenizer_replaces_the_estimate(suite, tmp_path):
    cfg = RunConfig(model="openai:gpt-4o-mini", suite="trustllm", data=str(suite), tasks="safety",
                    cache=str(tmp_path / "c.sqlite"))
    p = asyncio.run(plan_async(cfg, CountingModel("gpt-4o-mini", ["http://127.0.0.1:9/v1"])))
    words = sum(len(x.split()) for x in planned_prompts(suite, model="gpt-4o-mini").values())
    assert p.prompt_tokens == words and p.tokens_counted_by == "a word counter"
    assert "counted with a word counter" in p.first_line()


class BrokenTokenizerModel(OpenAIChatModel):
    async def count_tokens(self, conversations):
        from trustbench.errors import TrustbenchError

        raise TrustbenchError("model x: llama.cpp server failed to start")


def test_a_failing_tokenizer_falls_back_to_the_estimate(suite, tmp_path):
    cfg = RunConfig(model="openai:gpt-4o-mini", suite="trustllm", data=str(suite), tasks="safety",
                    cache=str(tmp_path / "c.sqlite"))
    p = asyncio.run(plan_async(cfg, BrokenTokenizerModel("gpt-4o-mini", ["http://127.0.0.1:9/v1"])))
    assert p.tokens_counted_by is None
    assert p.prompt_tokens == sum(estimate_tokens(x) for x in planned_prompts(suite, model="gpt-4o-mini").values())
    assert "estimated as characters/4; the tokenizer failed: model x: llama.cpp server failed" in p.first_line()


def test_price_lookup():
    assert lookup_price("openai:gpt-4o-mini-2024-07-18") == lookup_price("openai:gpt-4o-mini")
    assert lookup_price("openai:gpt-4o-2024-08-06") == lookup_price("openai:gpt-4o")
    assert lookup_price("anthropic:claude-3-5-sonnet-20241022") == (3.0, 15.0)
    assert lookup_price("openai:gpt-4omni") is None
    assert lookup_price("litellm:anthropic/claude-3-haiku-20240307") == lookup_price("anthropic:claude-3-haiku")
    assert lookup_price("litellm:gpt-4o") == lookup_price("openai:gpt-4o")
    assert price_for("local:smollm2").input == 0
    assert price_for("openai:unknown") is None
    assert price_for("openai:unknown", 1.0, 2.0).source == "--price-in/--price-out"
    p = price_for("openai:gpt-4o", price_out=99.0)
    assert (p.input, p.output) == (2.5, 99.0)
    table = price_table()
    assert table["source"].startswith("list prices") and table["as_of"]
    assert all(set(v) == {"input", "output"} for v in table["prices"].values())
    json.dumps(table)


def test_judge_calls_and_their_cost(tmp_path):
    base = ["plan", "--model", "openai:gpt-4o-mini", "--suite", "builtin", "--tasks", "fairness,ethics",
            "--cache", str(tmp_path / "c.sqlite")]
    r = cli(base)
    assert_ok(r)
    line = next(x for x in r.stdout.splitlines() if x.startswith("judge calls:"))
    assert "up to 0 (no --judge:" in line and "judged verdicts will be reported as not computed" in line
    judged = cli(base + ["--judge", "openai:gpt-4o"])
    assert_ok(judged)
    n = int(next(x for x in judged.stdout.splitlines() if x.startswith("judge calls:")).split()[4])
    assert n > 0 and "judge openai:gpt-4o ~$" in judged.stdout
    r = cli(base + ["--judge", "openai:no-such-judge"])
    assert "cost unknown" not in r.stdout and "no price for judge openai:no-such-judge" in r.stdout


def test_python_api_plan(suite, tmp_path):
    from trustbench import api
    from trustbench.plan import Plan

    p = api.plan(model="openai:gpt-4o", suite="trustllm", data=str(suite), tasks="safety/misuse", limit=2,
                 cache=str(tmp_path / "c.sqlite"))
    assert isinstance(p, Plan) and p.items == 2 and p.model_calls == 2
    assert "cost up to $0.01" in p.first_line()  # 2 x 512 output tokens at $10 per million, shown to the cent
    p = api.plan(model="openai:gpt-4o", suite="trustllm", data=str(suite), tasks="safety/misuse", limit=1,
                 max_tokens=10, cache=str(tmp_path / "c.sqlite"))
    assert "cost up to $0.0001" in p.first_line()
