"""`trustbench data download` against a local fake of the Hugging Face hub API (no network)."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trustbench.cli import app
from trustbench.data.download import download_trustllm, expected_files, verify_trustllm
from trustbench.errors import DataError, TrustbenchError

SHA = "0123456789abcdef0123456789abcdef01234567"


SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "trustllm"


@pytest.fixture(autouse=True)
def _need_shared():
    # The fake hub serves the real files read at test time (never committed to the repo).
    if not (SHARED / "safety" / "jailbreak.json").is_file():
        pytest.skip(f"TrustLLM data not found at {SHARED}")


def _hub_files(as_zip: bool) -> dict[str, bytes]:
    files = {rel: (SHARED / rel).read_bytes() for rel in expected_files()}
    if not as_zip:
        return {f"data/{rel}": b for rel, b in files.items()}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for rel, b in files.items():
            z.writestr(f"dataset/{rel}", b)
    return {"dataset.zip": buf.getvalue()}


class FakeHub:
    """Serves the two hub endpoints snapshot_download uses: repo info and file resolve."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self):
                path = self.path.split("?")[0]
                if path.startswith("/api/datasets/") and "/tree/" in path:
                    tree = [
                        {"type": "file", "path": n, "size": len(b), "oid": hashlib.sha1(b).hexdigest()}
                        for n, b in hub.files.items()
                    ]
                    return self._send(200, json.dumps(tree).encode(), {"Content-Type": "application/json"})
                if path.startswith("/api/datasets/"):
                    info = {
                        "id": "TrustLLM/TrustLLM-dataset",
                        "sha": SHA,
                        "siblings": [{"rfilename": n} for n in hub.files],
                    }
                    return self._send(200, json.dumps(info).encode(), {"Content-Type": "application/json"})
                prefix = "/datasets/TrustLLM/TrustLLM-dataset/resolve/"
                if path.startswith(prefix):
                    name = path[len(prefix):].split("/", 1)[1]
                    body = hub.files.get(name)
                    if body is None:
                        return self._send(404, b"{}", {"X-Error-Code": "EntryNotFound"})
                    etag = '"' + hashlib.sha1(body).hexdigest() + '"'
                    return self._send(200, body, {"ETag": etag, "X-Repo-Commit": SHA,
                                                  "Content-Type": "application/octet-stream"})
                return self._send(404, b"{}", {})

            do_HEAD = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture(autouse=True)
def _hf_env(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)


@pytest.mark.parametrize("as_zip", [False, True])
def test_download_lays_out_and_verifies(tmp_path, as_zip):
    hub = FakeHub(_hub_files(as_zip))
    try:
        summary = download_trustllm(dest=tmp_path / "trustllm", endpoint=hub.url)
    finally:
        hub.close()
    assert "24 files, 16441 records" in summary
    assert (tmp_path / "trustllm" / "safety" / "jailbreak.json").is_file()
    assert verify_trustllm(tmp_path / "trustllm").endswith("all valid")


def test_download_missing_file_keeps_existing_copy(tmp_path):
    files = _hub_files(False)
    files.pop("data/ethics/awareness.json")
    dest = tmp_path / "trustllm"
    dest.mkdir()
    (dest / "marker").write_text("old")
    hub = FakeHub(files)
    try:
        with pytest.raises(DataError, match="ethics/awareness.json"):
            download_trustllm(dest=dest, endpoint=hub.url)
    finally:
        hub.close()
    assert (dest / "marker").read_text() == "old"


def test_download_unreachable_hub_is_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["data", "download", "--dest", str(tmp_path / "d"), "--endpoint", "http://127.0.0.1:9"])
    assert result.exit_code != 0
    assert "download of TrustLLM/TrustLLM-dataset failed" in result.output
    assert "Traceback" not in result.output


def test_verify_reports_wrong_count(tmp_path):
    for rel in expected_files():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        records = json.loads((SHARED / rel).read_text())
        if rel == "privacy/privacy_leakage.json":
            records = records[1:]
        p.write_text(json.dumps(records))
    with pytest.raises(TrustbenchError, match=r"privacy_leakage.json: 399 records, expected 400"):
        verify_trustllm(tmp_path)
