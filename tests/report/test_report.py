"""HTML / Markdown / JSON reports of a fixture run: content, escaping, self-containment, errors."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from trustbench.errors import TrustbenchError
from trustbench.report import render_html, write_report
from trustbench.report.commands import report_command
from trustbench.report.synthetic import TRICKY_PROMPT
from trustbench.tasks.base import DIMENSIONS


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self._in_script: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "script":
            self._in_script = a
            self.scripts.append((a, ""))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            a, text = self.scripts[-1]
            self.scripts[-1] = (a, text + data)


@pytest.fixture(scope="module")
def html(run_a) -> str:
    path = render_html(run_a)
    assert path == run_a / "report.html"
    return path.read_text(encoding="utf-8")


def test_payloads_never_appear_as_markup(html, payloads):
    for p in payloads:
        assert p not in html
    assert TRICKY_PROMPT not in html
    p = Tags()
    p.feed(html)
    names = {t for t, _ in p.tags}
    assert "img" not in names and "iframe" not in names
    for tag, attrs in p.tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
    # exactly two scripts: the JSON data block and our own code
    assert [a.get("type") for a, _ in p.scripts] == ["application/octet-stream", None]


def test_sample_blob_round_trips_and_is_escaped(html, payloads):
    p = Tags()
    p.feed(html)
    (attrs, blob), (_, js) = p.scripts
    assert attrs["id"] == "tb-samples" and attrs["data-encoding"] == "gzip+base64"
    assert re.fullmatch(r"[A-Za-z0-9+/=]+", blob)  # inert base64 text
    text = gzip.decompress(base64.b64decode(blob)).decode("utf-8")
    for ch in ("<", ">", "&", "\u2028", "\u2029"):
        assert ch not in text  # escaped as in a JSON block, in case it is ever inlined
    data = json.loads(text)
    responses = [r[3] for r in data["rows"] if r[3]]
    assert any(payloads[0] in r for r in responses) and any(payloads[1] in r for r in responses)
    prompts = [m[1] for r in data["rows"] for m in r[2]]
    assert TRICKY_PROMPT in prompts
    assert len(data["rows"]) == 600
    assert data["tags"][0] == "generation failed"
    # the CSP allows exactly our script, by hash
    digest = base64.b64encode(hashlib.sha256(js.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in html


def test_self_contained_no_network(html):
    # the JSON data block is inert text (checked above); look at the markup around it
    html = re.sub(r'(<script type="application/octet-stream" id="tb-samples"[^>]*>).*?(</script>)', r"\1\2", html, flags=re.S)
    urls = re.findall(r"""(?:src|href)\s*=\s*["']?([^"' >]+)""", html)
    assert all(u.startswith("#") or u.startswith("data:") for u in urls), urls
    for m in re.finditer(r"https?://[^\s\"'<>]+", html):
        assert m.group(0) == "http://www.w3.org/2000/svg", m.group(0)
    assert "@import" not in html and "url(" not in html
    assert "default-src 'none'" in html


def test_sections_present(html, run_a):
    results = json.loads((run_a / "results.json").read_text())
    for section in ("summary", "tasks", "frontier", "failures", "samples", "manifest"):
        assert f'id="{section}"' in html
    assert html.count('<svg class="radar"') == 1 and '<svg class="frontier"' in html
    for dim in DIMENSIONS:
        assert f">{dim}</text>" in html
    assert "Dimension score: the unweighted mean" in html
    for name in results["tasks"]:
        assert f"<h4 id=\"task-{name.replace('/', '-')}\">{name}" in html
    assert html.count('<svg class="bar"') >= len(results["tasks"])
    assert "HTTP 500 from model server" in html  # failures section
    # manifest is shown escaped
    assert "&lt;/script&gt;&lt;b&gt;template&lt;/b&gt;" in html


def test_markdown_and_json(run_a, tmp_path):
    md = write_report(run_a, "md").read_text(encoding="utf-8")
    assert md.startswith("# Trust report: synthetic/model-a")
    assert "## Dimension scores" in md and "## Over-refusal vs harmful compliance" in md
    for dim in DIMENSIONS:
        assert re.search(rf"^\| {dim} \| \d\.\d{{3}} \| \[", md, re.M), dim
    assert "| **rta** |" in md
    out = write_report(run_a, "json", out=tmp_path)
    assert out == tmp_path / "report.json"
    data = json.loads(out.read_text())
    assert set(DIMENSIONS) <= set(data["dimensions"])
    assert data["frontier"]["x_n"] > 0 and 0 <= data["frontier"]["y"] <= 1
    assert data["failures"]["top_errors"][0]["error"].startswith("HTTP 500")
    assert "samples" not in data


def test_report_command_and_out_file(run_a, tmp_path):
    p = report_command(run_a, "html", tmp_path / "x.html")
    assert p == tmp_path / "x.html" and p.stat().st_size > 10_000
    with pytest.raises(TrustbenchError, match="--format"):
        report_command(run_a, "pdf")
    with pytest.raises(TrustbenchError, match="does not exist"):
        report_command(run_a, "md", tmp_path / "nope" / "r.md")


def test_errors_name_the_file(run_a, tmp_path):
    with pytest.raises(TrustbenchError, match="run directory not found"):
        report_command(tmp_path / "missing")
    bad = tmp_path / "bad"
    shutil.copytree(run_a, bad)
    (bad / "results.json").write_text("{not json")
    with pytest.raises(TrustbenchError) as e:
        report_command(bad)
    assert str(bad / "results.json") in str(e.value) and "\n" not in str(e.value)
    (bad / "results.json").write_text(json.dumps({"tasks": {"safety/misuse": {"metrics": {"rta": 3}}}}))
    with pytest.raises(TrustbenchError, match=r"results\.json: malformed results \(metric safety/misuse:rta"):
        report_command(bad)
    (bad / "results.json").write_text(json.dumps({"tasks": []}))
    with pytest.raises(TrustbenchError, match="missing object 'tasks'"):
        report_command(bad)
    shutil.copy(run_a / "results.json", bad / "results.json")
    with (bad / "samples.jsonl").open("a") as f:
        f.write("{broken\n")
    with pytest.raises(TrustbenchError, match=r"samples\.jsonl:601: invalid JSON"):
        report_command(bad)
    (bad / "manifest.json").unlink()
    with pytest.raises(TrustbenchError, match=r"manifest\.json: not found"):
        report_command(bad)


def test_run_without_samples_or_dimensions(run_a, tmp_path):
    d = tmp_path / "lean"
    d.mkdir()
    shutil.copy(run_a / "manifest.json", d)
    results = json.loads((run_a / "results.json").read_text())
    expected = results.pop("dimensions")
    (d / "results.json").write_text(json.dumps(results))
    html = render_html(d).read_text()
    assert "No samples.jsonl in this run directory." in html and "tb-samples" not in html
    data = json.loads(write_report(d, "json").read_text())
    for dim in DIMENSIONS:
        assert data["dimensions"][dim]["score"] == pytest.approx(expected[dim]["score"])


def test_trustllm_mode_keys_feed_the_frontier(tmp_path):
    from trustbench.report.synthetic import write_synthetic_run

    d = write_synthetic_run(tmp_path / "tl", n_items=400, scoring="trustllm", n_boot=20)
    data = json.loads(write_report(d, "json").read_text())
    assert data["scoring"] == "trustllm"
    assert data["frontier"] is not None
    assert Path(write_report(d)).stat().st_size > 0
