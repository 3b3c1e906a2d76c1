"""`trustbench data download` / `verify`: fetch TrustLLM's dataset from the Hugging Face hub.

The hub repository's layout may change, so files are located by name anywhere in the
snapshot and copied into `<dest>/<dimension>/<file>.json`, then verified: the file of every
registered task that sets `Task.trustllm_records` (all 24 for the built-in tasks), valid JSON lists,
record counts of TrustLLM v0.3.0 (16,441 records), and task schemas.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from trustbench.core.cache import default_cache_dir
from trustbench.data.loader import (
    read_json_records,
    validate_records,
)
from trustbench.errors import DataError, TrustbenchError

if TYPE_CHECKING:
    from trustbench.tasks.base import Task


def expected_files() -> dict[str, Task]:
    """`<dimension>/<file>` -> task, for every registered task with a TrustLLM file
    (`Task.trustllm_records`: its record count in TrustLLM v0.3.0, dataset.zip md5
    4787c168bfa84827ea50273e8118d4b5; 24 files, 16,441 records for the built-in tasks)."""
    from trustbench.tasks.registry import all_tasks

    return {f"{t.dimension}/{t.file}": t for t in all_tasks().values() if t.trustllm_records is not None}


def verify_trustllm(root: Path) -> str:
    """Check every expected file; raise DataError naming the first problem, else a summary line."""
    expected = expected_files()
    if not root.is_dir():
        raise DataError(f"{root}: not a directory")
    total = 0
    for rel, task in expected.items():
        path = root / rel
        records, _ = read_json_records(path)
        count = task.trustllm_records
        if len(records) != count:
            raise DataError(f"{path}: {len(records)} records, expected {count} (TrustLLM v0.3.0)")
        validate_records(task, path, records)
        total += count
    return f"{root}: {len(expected)} files, {total} records, all valid"


def _locate(snapshot: Path, rel: str) -> Path | None:
    name = Path(rel).name
    exact = snapshot / rel
    if exact.is_file():
        return exact
    hits = sorted(p for p in snapshot.rglob(name) if p.is_file())
    dim = rel.split("/")[0]
    for p in hits:  # prefer a copy under a folder named like the dimension
        if dim in p.parts:
            return p
    return hits[0] if hits else None


def download_trustllm(
    dest: Path | None = None,
    repo: str = "TrustLLM/TrustLLM-dataset",
    revision: str | None = None,
    endpoint: str | None = None,
) -> str:
    """Download a snapshot with huggingface_hub, lay it out as `<dimension>/<file>.json`, verify."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError

    dest = dest or default_cache_dir() / "data" / "trustllm"
    staging = dest.parent / f".{dest.name}.download"
    try:
        snapshot = Path(
            snapshot_download(
                repo_id=repo,
                repo_type="dataset",
                revision=revision,
                endpoint=endpoint,
                local_dir=staging,
                allow_patterns=["*.json", "*.zip"],
            )
        )
    except HfHubHTTPError as e:
        raise TrustbenchError(f"download of {repo} failed: {str(e).splitlines()[0]}") from None
    except Exception as e:  # network errors surface as requests/httpx exceptions
        raise TrustbenchError(f"download of {repo} failed ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    _unzip_all(snapshot)
    tmp = dest.parent / f".{dest.name}.new"
    shutil.rmtree(tmp, ignore_errors=True)
    missing = []
    for rel in expected_files():
        src = _locate(snapshot, rel)
        if src is None:
            missing.append(rel)
            continue
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, tmp / rel)
    if missing:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataError(f"{repo}: snapshot lacks {len(missing)} file(s), first {missing[0]}")
    summary = verify_trustllm(tmp)  # verify before replacing an existing good copy
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    shutil.rmtree(staging, ignore_errors=True)
    return summary.replace(str(tmp), str(dest))


def _unzip_all(snapshot: Path) -> None:
    import zipfile

    for z in snapshot.rglob("*.zip"):
        try:
            with zipfile.ZipFile(z) as f:
                for member in f.namelist():  # refuse path traversal
                    if member.startswith("/") or ".." in Path(member).parts:
                        raise DataError(f"{z}: unsafe path {member!r} in archive")
                f.extractall(z.parent / z.stem)
        except zipfile.BadZipFile:
            raise DataError(f"{z}: not a valid zip archive") from None
