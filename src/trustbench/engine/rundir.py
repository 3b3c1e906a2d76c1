"""The run directory: manifest.json, samples.jsonl, results.json (typed by trustbench.records,
written atomically)."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trustbench.errors import TrustbenchError

if TYPE_CHECKING:  # the records' pydantic models are built when first written (during generation)
    from trustbench.records import Manifest, Results, Sample


def atomic_write(path: Path, text: str) -> None:
    """Write via a temp file + rename so a crash never leaves a half-written file.
    A target that exists but is not a regular file (/dev/stdout, a FIFO, /dev/full) is
    written in place: renaming over it would replace the device node."""
    try:
        if path.exists() and not path.is_file() and not path.is_dir():
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            return
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)  # leave no half-written temp file behind (disk full, Ctrl-C)
            raise
    except OSError as e:
        raise TrustbenchError(f"{path}: cannot write ({e.strerror or e})") from None


class RunWriter:
    def __init__(self, out_dir: Path):
        self.dir = Path(out_dir)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise TrustbenchError(f"--out {self.dir}: cannot create directory ({e.strerror or e})") from None
        if not os.access(self.dir, os.W_OK):
            raise TrustbenchError(f"--out {self.dir}: directory is not writable")

    def write_manifest(self, manifest: Manifest | dict[str, Any]) -> None:
        from trustbench.records import Manifest

        record = Manifest.model_validate(manifest)
        atomic_write(self.dir / "manifest.json", json.dumps(record.dump(), indent=2, ensure_ascii=False, default=str))

    def write_results(self, results: Results | dict[str, Any]) -> None:
        from trustbench.records import Results

        record = Results.model_validate(results)
        atomic_write(self.dir / "results.json", json.dumps(record.dump(), indent=2, ensure_ascii=False, default=str))

    def write_samples(self, samples: Iterable[Sample | dict[str, Any]]) -> None:
        self.write_sample_text(sample_text(samples))

    def write_sample_text(self, text: str) -> None:
        """samples.jsonl from lines `sample_text` made (a run makes each task's while others generate)."""
        atomic_write(self.dir / "samples.jsonl", text)


@functools.cache
def _samples_adapter() -> Any:
    from pydantic import TypeAdapter

    from trustbench.records import Sample

    return TypeAdapter(list[Sample])


_LINE = json.JSONEncoder(ensure_ascii=False, default=str)  # json.dumps(..., ensure_ascii=False, default=str), built once


def sample_text(samples: Iterable[Sample | dict[str, Any]]) -> str:
    """samples.jsonl lines (checked as trustbench.records.Sample and dumped as `Record.dump` does,
    the whole list in one call of pydantic's validator and one of its serializer), each ending in a
    newline."""
    adapter = _samples_adapter()
    dumped = adapter.dump_python(adapter.validate_python(list(samples)), exclude_unset=True)
    return "".join(_LINE.encode(d) + "\n" for d in dumped)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TrustbenchError(f"{path}: not found") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise TrustbenchError(f"{path}: invalid JSON ({e})") from None
