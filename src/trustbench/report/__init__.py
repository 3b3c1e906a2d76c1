"""Run reports (HTML / Markdown / JSON) and comparisons of runs.

    write_report(run_dir, fmt="html" | "md" | "json", out=None, sample_blob=None) -> Path

The HTML report is one self-contained file (inline CSS, JS and SVG, no network): dimension
radar and scores, per-task metric bars with intervals, the over-refusal vs harmful-compliance
frontier, failures, a lazily rendered sample browser, and the manifest. See docs/report.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from trustbench.errors import TrustbenchError
from trustbench.report.build import build_view
from trustbench.report.rundir import RunData, load_run
from trustbench.report.sample_rows import SampleBlob
from trustbench.report.svg import frontier as frontier_svg
from trustbench.report.svg import metric_bar, radar

FORMATS = ("html", "md", "json")
_DEFAULT_NAME = {"html": "report.html", "md": "report.md", "json": "report.json"}

__all__ = ["FORMATS", "load_run", "render_html", "render_json", "render_markdown", "write_report"]


# ---------------------------------------------------------------- template helpers


def _num(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def _ci(v: Any) -> str:
    if not v:
        return "—"
    return f"[{v[0]:.3f}, {v[1]:.3f}]"


def _pct(v: Any) -> str:
    return "—" if v is None else f"{100 * v:.1f}%"


def _md(v: Any) -> str:
    s = "" if v is None else str(v)
    s = s.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    s = s.replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"\s*[\r\n]+\s*", " ", s)


def _env(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("trustbench.report", "templates"),
        autoescape=autoescape,
        trim_blocks=not autoescape,
        lstrip_blocks=not autoescape,
        keep_trailing_newline=True,
    )
    env.filters.update(num=_num, ci=_ci, pct=_pct, md=_md)
    return env


@cache
def html_env() -> Environment:
    return _env(True)


@cache
def md_env() -> Environment:
    return _env(False)


def load_html_renderer() -> None:
    """Compile the HTML report's template ahead of rendering (a run does it while the model generates)."""
    html_env().get_template("report.html.j2")


def asset(name: str) -> str:
    return resources.files("trustbench.report").joinpath("templates", name).read_text(encoding="utf-8")


def script_hash(js: str) -> str:
    """CSP source expression for an inline script ('sha256-...')."""
    return "sha256-" + base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")


def _out_path(run: RunData, fmt: str, out: Path | str | None) -> Path:
    if out is None:
        return run.path / _DEFAULT_NAME[fmt]
    p = Path(out)
    if p.is_dir():
        return p / _DEFAULT_NAME[fmt]
    if not p.parent.exists():
        raise TrustbenchError(f"--out {p}: directory {p.parent} does not exist")
    return p


def _write(path: Path, text: str) -> Path:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise TrustbenchError(f"{path}: cannot write ({e.strerror or e})") from None
    return path


# ---------------------------------------------------------------- renderers


def html_text(run: RunData) -> str:
    v = build_view(run)
    js = asset("browser.js")
    series = [{"label": v["model"], "scores": {d["name"]: d for d in v["dimensions"]}}]
    return html_env().get_template("report.html.j2").render(
        v=v,
        m=v["manifest"],
        css=Markup(asset("style.css")),
        js=Markup(js),
        script_hash=script_hash(js),
        radar=radar(series, [d["name"] for d in v["dimensions"]], title=f"Dimension scores of {v['model']}"),
        frontier=frontier_svg([v["frontier"]]) if v["frontier"] else Markup(""),
        bar=metric_bar,
        samples_json=Markup(v["samples"]["blob_b64"]) if v["samples"] else "",
        manifest_json=json.dumps(v["manifest"], indent=2, ensure_ascii=False, default=str),
    )


def render_html(run_dir: Path | str, out: Path | str | None = None,
                sample_blob: SampleBlob | None = None) -> Path:
    """Write the self-contained HTML report (default `<run_dir>/report.html`)."""
    run = load_run(run_dir, sample_blob)
    return _write(_out_path(run, "html", out), html_text(run))


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    f = "`" * max(3, longest + 1)
    return f"{f}json\n{text}\n{f}"


def markdown_text(run: RunData) -> str:
    v = build_view(run, with_samples=False)
    methods = sorted({m["ci_method"].split("(")[0] for t in v["tasks"] for m in t["metrics"] if m["ci_method"]})
    return md_env().get_template("report.md.j2").render(
        v=v,
        m=v["manifest"],
        ci_methods_md=", ".join(methods) or "none",
        manifest_md=_fence(json.dumps(v["manifest"], indent=2, ensure_ascii=False, default=str)),
    )


def render_markdown(run_dir: Path | str, out: Path | str | None = None,
                    sample_blob: SampleBlob | None = None) -> Path:
    """Write a Markdown summary (default `<run_dir>/report.md`): scores, metrics, manifest."""
    run = load_run(run_dir, sample_blob)
    return _write(_out_path(run, "md", out), markdown_text(run))


def json_report(run: RunData) -> dict[str, Any]:
    v = build_view(run, with_samples=False)
    samples = v.pop("samples")
    v["failures"] = {
        "failed_by_task": {t["name"]: t["n_failed"] for t in v["tasks"]},
        "unparsed_verdicts_by_task": {t["name"]: t["unparsed_verdicts"] for t in v["tasks"]},
        "top_errors": [{"error": e, "count": c} for e, c in (samples or {}).get("errors", [])],
    }
    v["dimensions"] = {d.pop("name"): d for d in v["dimensions"]}
    return v


def render_json(run_dir: Path | str, out: Path | str | None = None,
                sample_blob: SampleBlob | None = None) -> Path:
    """Write a machine-readable summary (default `<run_dir>/report.json`)."""
    run = load_run(run_dir, sample_blob)
    text = json.dumps(json_report(run), indent=2, ensure_ascii=False, default=str)
    return _write(_out_path(run, "json", out), text)


def write_report(run_dir: Path | str, fmt: str = "html", out: Path | str | None = None,
                 sample_blob: SampleBlob | None = None) -> Path:
    """Render the report of `run_dir` in `fmt` ("html", "md" or "json"); returns the written path.
    `sample_blob`: the HTML sample browser's data made by the run that just wrote `run_dir`
    (RunResult.sample_blob), so that samples.jsonl is not read back."""
    renderers = {"html": render_html, "md": render_markdown, "json": render_json}
    if fmt not in renderers:
        raise TrustbenchError(f"--format: must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return renderers[fmt](run_dir, out, sample_blob)
