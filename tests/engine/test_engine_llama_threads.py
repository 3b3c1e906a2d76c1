"""The managed llama.cpp server's default thread count follows the cores other work leaves free."""

from __future__ import annotations

import os

import pytest

from trustbench.models import local


@pytest.mark.parametrize(("cores", "load", "threads"), [
    (2, 0.1, 2),  # idle: one per core, as before
    (2, 0.6, 1),  # one core busy elsewhere
    (2, 4.9, 1),  # oversubscribed: never below one
    (16, 3.2, 13),
    (1, 0.0, 1),
])
def test_default_threads(monkeypatch, cores, load, threads):
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    assert local.default_threads() == threads


def test_no_load_average(monkeypatch):
    def fail():
        raise OSError("not available")

    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(os, "getloadavg", fail)
    assert local.default_threads() == 4
