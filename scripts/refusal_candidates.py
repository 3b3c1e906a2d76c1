"""Extract the responses a run judged for refusal, for labelling (the held-out refusal set).

Dev tool (not part of the package). tests/fixtures/refusal_heldout.jsonl was made this way from a
default `trustbench run`: every response with a `refusal` verdict, without the verdict (annotators
must not see it), shuffled with a fixed seed and cut into parts for two independent annotators each (for the
committed set these were annotator agents, i.e. language models: model-made labels). Labels are
then added by reading (guideline in docs/judges.md).

    python scripts/refusal_candidates.py runs/<run dir> /tmp/label --parts 4
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path


def candidates(run_dir: Path) -> list[dict]:
    out = []
    with (run_dir / "samples.jsonl").open(encoding="utf-8") as f:
        for line in f:
            s = json.loads(line)
            if "refusal" not in (s.get("verdicts") or {}) or s.get("response") is None:
                continue
            user = [m["content"] for m in s["messages"] if m["role"] == "user"][-1]
            out.append({"uid": f"{s['task']}::{s['id']}", "task": s["task"], "prompt": user,
                        "response": s["response"]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--parts", type=int, default=4)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rows = candidates(args.run_dir)
    random.Random(args.seed).shuffle(rows)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for k in range(args.parts):
        path = args.out_dir / f"part{k + 1}.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for r in rows[k :: args.parts]:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} responses in {args.parts} parts -> {args.out_dir}")


if __name__ == "__main__":
    main()
