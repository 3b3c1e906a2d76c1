"""Read a run directory (manifest.json, results.json, samples.jsonl) for the report and comparisons."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from trustbench.errors import TrustbenchError
from trustbench.records import Manifest, Results, Sample, describe_error
from trustbench.report.sample_rows import SampleBlob

T = TypeVar("T", bound=BaseModel)


@dataclass
class RunData:
    path: Path
    manifest: dict[str, Any]
    results: dict[str, Any]
    samples_path: Path | None
    manifest_record: Manifest | None = None  # the same content, typed (trustbench.records)
    results_record: Results | None = None
    sample_blob: SampleBlob | None = None  # the sample browser's data, made by the run that wrote samples.jsonl

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id") or self.path.name)

    @property
    def model(self) -> str:
        model = self.manifest.get("model") or {}
        return str(model.get("spec") or (model.get("identity") or {}).get("name") or "unknown model")

    @property
    def label(self) -> str:
        """A short name for tables: the model spec, plus the run id when it helps."""
        return f"{self.model} ({self.run_id})"

    @property
    def scoring(self) -> str:
        return str(self.results.get("scoring") or self.manifest.get("scoring") or "corrected")

    @property
    def tasks(self) -> dict[str, dict[str, Any]]:
        return self.results["tasks"]

    def _iter(self) -> Iterator[tuple[dict[str, Any], Sample]]:
        if self.samples_path is None:
            return
        with self.samples_path.open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as e:
                    raise TrustbenchError(f"{self.samples_path}:{lineno}: invalid JSON ({e})") from None
                if not isinstance(obj, dict) or "task" not in obj or "id" not in obj:
                    raise TrustbenchError(f"{self.samples_path}:{lineno}: a sample must be an object with 'task' and 'id'")
                try:
                    record = Sample.model_validate(obj)
                except ValidationError as e:
                    raise TrustbenchError(
                        f"{self.samples_path}:{lineno}: malformed sample ({describe_error(e, 'sample')})") from None
                yield obj, record

    def iter_samples(self) -> Iterator[dict[str, Any]]:
        """Samples in file order as dicts; a malformed line raises TrustbenchError naming file and line."""
        for obj, _ in self._iter():
            yield obj

    def iter_sample_records(self) -> Iterator[Sample]:
        """Samples in file order as typed records (trustbench.records.Sample)."""
        for _, record in self._iter():
            yield record


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TrustbenchError(f"{path}: not found (not a trustbench run directory?)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise TrustbenchError(f"{path}: cannot read ({e})") from None
    try:
        return json.loads(text)
    except ValueError as e:
        raise TrustbenchError(f"{path}: invalid JSON ({e})") from None


def _validated(path: Path, data: Any, model: type[T], what: str) -> T:
    """`data` read from `path` as a `model` record, or a one-line error naming the file."""
    if not isinstance(data, dict):
        raise TrustbenchError(f"{path}: malformed {what} (top level must be an object)")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise TrustbenchError(f"{path}: malformed {what} ({describe_error(e, what)})") from None


def _check_results(path: Path, results: Any) -> Results:
    return _validated(path, results, Results, "results")


def _check_manifest(path: Path, manifest: Any) -> Manifest:
    return _validated(path, manifest, Manifest, "manifest")


def load_run(run_dir: Path | str, sample_blob: SampleBlob | None = None) -> RunData:
    """Load and check a run directory. Raises TrustbenchError (one line, naming the file).
    `sample_blob`: the sample browser's data, when the run that wrote the directory made it."""
    path = Path(run_dir)
    if not path.exists():
        raise TrustbenchError(f"{path}: run directory not found")
    if not path.is_dir():
        raise TrustbenchError(f"{path}: not a directory")
    results_path = path / "results.json"
    results = _read_json(results_path)
    results_record = _check_results(results_path, results)
    manifest_path = path / "manifest.json"
    manifest = _read_json(manifest_path)
    manifest_record = _check_manifest(manifest_path, manifest)
    samples = path / "samples.jsonl"
    return RunData(path=path, manifest=manifest, results=results, samples_path=samples if samples.is_file() else None,
                   manifest_record=manifest_record, results_record=results_record, sample_blob=sample_blob)
