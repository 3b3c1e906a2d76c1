"""The progress line's ETA, from the rate this machine shows in the current run.

The first line of a run estimates its duration from a stored rate (the last run of this model on
this suite, or the rate shipped for the default model), which another machine or a loaded one
will not match. Once a few calls have completed here, the progress line switches to the rate
measured in this run: fresh model calls only (cache hits complete instantly and would inflate it).
"""

from __future__ import annotations

import time
from collections.abc import Callable


def fmt_eta(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


class LiveEta:
    """Calls per second and time left for `todo` fresh model calls, measured since `start()`.

    No estimate until `min_calls` calls and `min_seconds` have passed (the first seconds include
    a cold server's prompt processing and are too noisy to extrapolate from)."""

    def __init__(self, todo: int, *, min_calls: int = 8, min_seconds: float = 5.0,
                 clock: Callable[[], float] = time.monotonic):
        self.todo = todo
        self.done = 0
        self.min_calls = min_calls
        self.min_seconds = min_seconds
        self._clock = clock
        self._t0 = clock()

    def start(self) -> None:
        self._t0 = self._clock()

    def add(self, n: int = 1) -> None:
        self.done += n

    def rate(self) -> float | None:
        elapsed = self._clock() - self._t0
        if self.done < self.min_calls or elapsed < self.min_seconds:
            return None
        return self.done / elapsed

    def text(self) -> str:
        """'1.8/s · ETA 4.2 min (measured here)', or what is still missing."""
        if self.todo == 0:
            return "nothing to generate"
        if self.done >= self.todo:
            return "done"
        rate = self.rate()
        if rate is None:
            return "ETA: measuring this machine's rate…"
        return f"{rate:.2f}/s · ETA {fmt_eta((self.todo - self.done) / rate)} (rate measured in this run)"


def eta_column(eta: LiveEta) -> object:
    """A rich progress column that re-reads `eta` on every refresh (not only when a call ends),
    so a stalled run shows its rate falling."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class _EtaColumn(ProgressColumn):
        def render(self, task: object) -> Text:
            return Text(eta.text())

    return _EtaColumn()
