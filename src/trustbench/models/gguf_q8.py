"""A Q4_1 GGUF re-encoded as Q8_0, the form llama.cpp's CPU kernels multiply fastest.

llama.cpp multiplies Q8_0 weights with its batched matrix kernels, Q4_1 weights one dot product
at a time, so a server with several slots serves the same weights faster as Q8_0: 1.32x the
calls/s for SmolLM2-135M on 2 cores with 16 slots a server (bench/RESULTS.md, "Default run: Q8_0
weights").
Each Q4_1 tensor is dequantized and quantized again to Q8_0 (both in blocks of 32 weights); the
error this adds is at most 1/254 of a block's largest weight, against Q4_1's own rounding of up to
1/30 of the block's range. Other tensors and all metadata are copied. The same input gives the
same bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

from trustbench.errors import TrustbenchError

ENCODING = "Q8_0, re-encoded from Q4_1 by trustbench (gguf_q8 v1)"


def q8_copy(src: Path, digest: str, home: Path) -> Path:
    """The Q8_0 re-encoding of `src` (sha256 `digest`), written once under `home`/models."""
    dst = home / "models" / f"{src.stem.removesuffix('.Q4_1')}.{digest[:16]}.Q8_0.gguf"
    if not dst.is_file():
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f"{dst.name}.{os.getpid()}.tmp")
        try:
            reencode(src, tmp)
            os.replace(tmp, dst)
        except ImportError:
            raise TrustbenchError("re-encoding the model as Q8_0 needs PyPI gguf: pip install 'trustbench[local]'") from None
        except (ValueError, KeyError, OSError) as e:
            raise TrustbenchError(f"{src}: cannot re-encode as Q8_0 ({type(e).__name__}: {e})") from None
        finally:
            tmp.unlink(missing_ok=True)
    return dst


def reencode(src: Path, dst: Path) -> None:
    """Write `src` to `dst` with every Q4_1 tensor as Q8_0."""
    import gguf
    from gguf import GGMLQuantizationType as Q

    reader = gguf.GGUFReader(src)
    writer = gguf.GGUFWriter(dst, reader.fields["general.architecture"].contents())
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue
        value = field.contents()
        if field.name == "general.file_type":
            value = int(gguf.LlamaFileType.MOSTLY_Q8_0)
        sub_type = field.types[1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, value, field.types[0], sub_type=sub_type)
    for t in reader.tensors:
        if t.tensor_type == Q.Q4_1:
            writer.add_tensor(t.name, gguf.quants.quantize(gguf.quants.dequantize(t.data, Q.Q4_1), Q.Q8_0), raw_dtype=Q.Q8_0)
        else:
            writer.add_tensor(t.name, t.data, raw_dtype=t.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
