"""docs/adding-a-task.md's worked example, run as written: the toy plugin package is installed as a
distribution (a .dist-info with entry_points.txt) on a temporary sys.path, appears in
`trustbench tasks` with its source, and runs end to end against the fake model server."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from tbhelp import assert_ok, cli, read_json, run_args

from trustbench.tasks.registry import forget

DOC = Path(__file__).resolve().parents[2] / "docs" / "adding-a-task.md"


def doc_files() -> dict[str, str]:
    """The files the guide shows, by name (`<!-- file: NAME -->` before a fenced block)."""
    text = DOC.read_text(encoding="utf-8")
    return dict(re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", text, re.DOTALL))


def install(site: Path, module: str, entry_points: str, name: str = "toy-tasks") -> None:
    """What `pip install` leaves in site-packages: the module and a .dist-info with its entry points."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "toy_tasks.py").write_text(module, encoding="utf-8")
    info = site / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(entry_points, encoding="utf-8")


@pytest.fixture
def site(tmp_path, monkeypatch):
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))
    forget()
    yield site
    forget()
    sys.modules.pop("toy_tasks", None)


def test_the_guide_shows_a_module_and_its_entry_point():
    files = doc_files()
    assert set(files) == {"toy_tasks.py", "entry_points.txt"}
    assert "[trustbench.tasks]" in files["entry_points.txt"]


def test_toy_plugin_is_listed_and_runs_end_to_end(site, server, tmp_path):
    files = doc_files()
    install(site, files["toy_tasks.py"], files["entry_points.txt"])
    listed = cli(["tasks"])
    assert_ok(listed)
    row = next(line for line in listed.stdout.splitlines() if "toy/letters" in line)
    assert "plugin toy-tasks 0.1 (toy = toy_tasks:TASKS)" in row
    assert "25 tasks (1 from plugins)" in listed.stdout

    data = tmp_path / "data" / "toy"
    data.mkdir(parents=True)
    # the fake server answers "... Answer: A", and refuses (no letter) a prompt with REFUSE in it
    records = [{"prompt": f"question {i}: pick a letter", "gold": g} for i, g in enumerate("AAABB")]
    records.append({"prompt": "question 5: REFUSE this", "gold": "A"})
    (data / "letters.json").write_text(json.dumps(records), encoding="utf-8")
    out = tmp_path / "run"
    assert_ok(cli(run_args(server.url, tmp_path / "data", out, tmp_path / "cache.sqlite", tasks="toy")))
    m = read_json(out / "results.json")["tasks"]["toy/letters"]["metrics"]["accuracy"]
    # 3 gold-A questions answered A; the two gold-B ones wrong; the refused one unparsed (still counted)
    assert (m["value"], m["n"], m["total"], m["parsed"]) == (0.5, 6, 6, 5)
    assert m["ci"] is not None


def test_a_broken_plugin_is_a_one_line_error_naming_it(site):
    install(site, "raise ImportError('no such thing')\n", "[trustbench.tasks]\nbroken = toy_tasks:TASKS\n",
            name="broken-tasks")
    r = cli(["tasks"])
    assert r.exit_code != 0
    err = r.stderr.strip()
    assert "task plugin 'broken' (toy_tasks:TASKS, broken-tasks 0.1)" in err and "Traceback" not in err
    assert len(err.splitlines()) == 1
