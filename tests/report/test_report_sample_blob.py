"""The sample browser's blob (report/sample_rows.SampleBlob): groups joined in position order
whatever the order and thread they arrive in, numbers that do not change as groups arrive, and
the filters decided at the end."""

from __future__ import annotations

import base64
import gzip
import json
import threading

import pytest

from trustbench.report.sample_rows import FAILED_TAG, MAX_TAG_VALUES, SampleBlob, sample_rows


def _samples(task: str, n: int, *, free_text: bool = False, failed: int = 0) -> list[dict]:
    out = []
    for i in range(n):
        verdicts = {"refusal": i % 2 == 0}
        if free_text:
            verdicts["label"] = f"value {i}"  # more distinct values than a filter offers
        out.append({"task": task, "id": f"{task}-{i}", "messages": [{"role": "user", "content": f"q<{i}>"}],
                    "response": None if i < failed else f"answer {i} & more", "error": "HTTP 500" if i < failed else None,
                    "verdicts": verdicts if i >= failed else {}, "score": {"refused": i % 2 == 0}, "cached": False})
    return out


def _decoded(done: dict) -> dict:
    return json.loads(gzip.decompress(base64.b64decode(done["blob_b64"])))


def test_groups_put_out_of_order_from_threads_give_the_blob_of_one_group():
    groups = [_samples("a", 40, free_text=True, failed=2), _samples("b", 5), _samples("c", 30, failed=1)]
    whole = SampleBlob()
    whole.put(0, sample_rows([s for g in groups for s in g]))
    parts = SampleBlob()
    threads = [threading.Thread(target=parts.put, args=(i, sample_rows(g))) for i, g in reversed(list(enumerate(groups)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert parts.finish() == whole.finish()  # the base64 text included: the same bytes
    data = _decoded(whole.finish())
    assert data["tasks"] == ["a", "b", "c"] and data["taskCounts"] == [40, 5, 30]
    assert [r[1] for r in data["rows"]][:3] == ["a-0", "a-1", "a-2"] and len(data["rows"]) == 75
    assert whole.finish()["failed"] == {"a": 2, "c": 1} and whole.finish()["n"] == 75


def test_free_text_tags_keep_their_numbers_but_are_not_offered():
    blob = SampleBlob()
    blob.put(0, sample_rows(_samples("a", MAX_TAG_VALUES + 5, free_text=True, failed=1)))
    data = _decoded(blob.finish())
    tags = data["tags"]
    assert tags[0] == FAILED_TAG and data["offered"][0] == 0
    offered = [tags[i] for i in data["offered"]]
    assert offered == [FAILED_TAG, "refusal: false", "refusal: true"]  # the failed tag first, then by name
    label = tags.index("label: \"value 3\"")
    row = next(r for r in data["rows"] if r[1] == "a-3")
    assert label in row[6] and label not in data["offered"] and data["tagCounts"][label] == 1
    assert sum(data["tagCounts"][i] for i in data["offered"][1:]) == MAX_TAG_VALUES + 4


def test_the_blob_is_inert_text_and_ends_once():
    blob = SampleBlob()
    blob.put(0, sample_rows(_samples("a", 3)))
    text = gzip.decompress(base64.b64decode(blob.finish()["blob_b64"])).decode("utf-8")
    assert "<" not in text and "&" not in text and json.loads(text)["rows"][0][2][0][1] == "q<0>"
    with pytest.raises(ValueError, match="finished"):
        blob.put(1, sample_rows(_samples("b", 1)))
    gap = SampleBlob()
    gap.put(1, sample_rows(_samples("b", 1)))
    with pytest.raises(ValueError, match="wait for group 0"):
        gap.finish()


def test_an_embedding_stand_in_is_shown_but_not_a_filter():
    sample = dict(_samples("a", 1)[0], verdicts={"refusal": True, "emb:response": "<vector dim=384>", "label": "x"})
    rows = sample_rows([sample])
    assert set(rows.tag_values) == {"refusal", "label"}
    assert "emb:response=\"<vector dim=384>\"" in rows.rows[0][5]  # in the verdict text
    blob = SampleBlob()
    blob.put(0, rows)
    data = _decoded(blob.finish())
    assert [data["tags"][i] for i in data["offered"]] == [FAILED_TAG, 'label: "x"', "refusal: true"]
