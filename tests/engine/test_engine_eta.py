"""The progress line's ETA: measured from this run's fresh calls, not from a stored rate."""

from __future__ import annotations

import pytest

from trustbench.engine.eta import LiveEta, fmt_eta
from trustbench.cli_progress import Progress


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_waits_for_enough_calls_and_seconds_then_extrapolates():
    clock = Clock()
    eta = LiveEta(100, min_calls=8, min_seconds=5.0, clock=clock)
    eta.start()
    clock.t += 2.0
    eta.add(10)
    assert eta.rate() is None and "measuring" in eta.text()  # 10 calls but only 2 s
    clock.t += 8.0  # 10 s, 20 calls: 2 calls/s, 80 left -> 40 s
    eta.add(10)
    assert eta.rate() == 2.0
    assert eta.text() == "2.00/s · ETA 40 s (rate measured in this run)"
    clock.t += 90.0  # the machine slows down: 30 calls in 100 s
    eta.add(10)
    assert eta.text().startswith("0.30/s · ETA 3.9 min")


def test_cache_hits_do_not_count_as_calls():
    p = Progress(total=50, todo=10)
    p.advance(hit=True, n=40)
    assert p.eta.done == 0 and p.hits == 40
    p.advance(n=3)  # one call whose response three items share
    p.advance(failed=True)
    assert p.eta.done == 2 and p.failures == 1


def test_edges_and_format():
    assert LiveEta(0).text() == "nothing to generate"
    done = LiveEta(2, min_calls=1, min_seconds=0)
    done.add(2)
    assert done.text() == "done"
    assert fmt_eta(59) == "59 s" and fmt_eta(600) == "10.0 min" and fmt_eta(7200) == "2.0 h" and fmt_eta(-3) == "0 s"


def test_progress_column_rereads_the_rate_on_each_refresh():
    from trustbench.engine.eta import eta_column

    clock = Clock()
    eta = LiveEta(100, min_calls=1, min_seconds=0, clock=clock)
    eta.start()
    eta.add(10)
    clock.t += 10
    col = eta_column(eta)
    assert str(col.render(None)).startswith("1.00/s")
    clock.t += 10  # no call finished: the rate shown falls
    assert str(col.render(None)).startswith("0.50/s")


class _LocalModel:
    """What `estimate_seconds` reads of a model that runs on this machine's CPU."""

    spec = "local:smollm2"
    cpu_threads = 2

    def identity(self) -> dict:
        return {"backend": "llama.cpp", "model": "eta-test"}


@pytest.mark.parametrize(("load", "scaled"), [(0.0, None), (4.5, 2 / 6.5)])
def test_first_estimate_scales_the_idle_rate_by_this_machines_load(monkeypatch, tmp_path, load, scaled):
    import os

    from trustbench.engine import rates

    monkeypatch.setenv("TRUSTBENCH_HOME", str(tmp_path))  # no rates.json from earlier runs
    monkeypatch.setattr(rates, "_load_rates", lambda: {})
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    seconds, why = rates.estimate_seconds(_LocalModel(), "builtin", 1000)
    shipped = rates.suite_meta("builtin")["reference_rates"]["local:smollm2"]
    expected = 1000 / (shipped * (scaled or 1.0))
    assert seconds == pytest.approx(expected)
    assert ("scaled by 0.31 for this machine's load (4.5 on 2 cores)" in why) == (scaled is not None)
    assert "idle 2-core machine" in why
