"""The Q8_0 re-encoding of a Q4_1 GGUF: same metadata and shapes, values within Q8_0's rounding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trustbench.errors import TrustbenchError
from trustbench.models.gguf_q8 import q8_copy, reencode

gguf = pytest.importorskip("gguf")
Q = gguf.GGMLQuantizationType


def tiny_q4_1(path: Path) -> dict[str, np.ndarray]:
    """A two-tensor llama-shaped file written here: one Q4_1 matrix, one F32 vector."""
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((8, 64)) * np.array([0.01, 1.0] * 4)[:, None]).astype(np.float32)
    norm = rng.standard_normal(64).astype(np.float32)
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("tiny")
    writer.add_block_count(1)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_1)
    writer.add_array("tokenizer.ggml.tokens", ["a", "b", "c"])
    writer.add_tensor("blk.0.ffn_up.weight", gguf.quants.quantize(w, Q.Q4_1), raw_dtype=Q.Q4_1)
    writer.add_tensor("blk.0.ffn_norm.weight", norm)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return {"w": w, "norm": norm}


def test_reencode_keeps_metadata_shapes_and_values(tmp_path):
    src, dst = tmp_path / "tiny.Q4_1.gguf", tmp_path / "tiny.Q8_0.gguf"
    tiny_q4_1(src)
    reencode(src, dst)
    a, b = gguf.GGUFReader(src), gguf.GGUFReader(dst)
    fields = lambda r: {k: f.contents() for k, f in r.fields.items() if not k.startswith("GGUF.")}  # noqa: E731
    fa, fb = fields(a), fields(b)
    assert fb.pop("general.file_type") == int(gguf.LlamaFileType.MOSTLY_Q8_0)
    fa.pop("general.file_type")
    assert fa == fb and fb["tokenizer.ggml.tokens"] == ["a", "b", "c"]
    ta, tb = {t.name: t for t in a.tensors}, {t.name: t for t in b.tensors}
    assert list(ta) == list(tb)
    up_a, up_b = ta["blk.0.ffn_up.weight"], tb["blk.0.ffn_up.weight"]
    assert (up_a.tensor_type, up_b.tensor_type) == (Q.Q4_1, Q.Q8_0)
    assert list(up_a.shape) == list(up_b.shape)
    before = gguf.quants.dequantize(up_a.data, Q.Q4_1)
    after = gguf.quants.dequantize(up_b.data, Q.Q8_0)
    # Q8_0 rounds each block of 32 to a step of (largest |weight| / 127): at most half a step off,
    # in the small-valued rows as in the large ones.
    blocks_before, blocks_after = before.reshape(-1, 32), after.reshape(-1, 32)
    bound = np.abs(blocks_before).max(axis=1, keepdims=True) / 254 * 1.01 + 1e-12
    assert (np.abs(blocks_after - blocks_before) <= bound).all()
    norm_b = tb["blk.0.ffn_norm.weight"]
    assert norm_b.tensor_type == Q.F32 and np.array_equal(norm_b.data, ta["blk.0.ffn_norm.weight"].data)


def test_reencoding_is_deterministic_and_written_once(tmp_path):
    src = tmp_path / "tiny.Q4_1.gguf"
    tiny_q4_1(src)
    first = q8_copy(src, "ab" * 32, tmp_path / "home")
    assert first.parent == tmp_path / "home" / "models" and first.name == f"tiny.{'ab' * 8}.Q8_0.gguf"
    stamp = first.stat().st_mtime_ns
    assert q8_copy(src, "ab" * 32, tmp_path / "home") == first and first.stat().st_mtime_ns == stamp
    again = tmp_path / "again.gguf"
    reencode(src, again)
    assert again.read_bytes() == first.read_bytes()
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no temporary file left behind


def test_a_file_that_is_not_gguf_is_named_in_one_error(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a gguf file at all")
    with pytest.raises(TrustbenchError, match="broken.gguf: cannot re-encode as Q8_0"):
        q8_copy(bad, "cd" * 32, tmp_path / "home")
    assert not any((tmp_path / "home" / "models").iterdir())
