"""The CLI's progress bar (rich): items, the rate and ETA measured in this run, failures, cache hits."""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from trustbench.engine.eta import LiveEta, eta_column


class Progress:
    """A context manager; the generate step calls `advance`. `todo`: the fresh model calls the
    run will make (the ETA counts those only: cache hits complete instantly)."""

    def __init__(self, total: int, todo: int | None = None, label: str = "generating"):
        self.failures = 0
        self.hits = 0
        self.eta = LiveEta(total if todo is None else todo)
        self._p = RichProgress(
            TextColumn(f"[bold]{label}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            eta_column(self.eta),  # type: ignore[arg-type]
            TextColumn("failed {task.fields[failures]} · cached {task.fields[hits]}"),
            transient=False,
        )
        self._t = self._p.add_task("gen", total=total, failures=0, hits=0)

    def __enter__(self) -> Progress:
        self.eta.start()
        self._p.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._p.stop()

    def advance(self, *, failed: bool = False, hit: bool = False, n: int = 1) -> None:
        self.failures += failed
        self.hits += hit * n
        if not hit:
            self.eta.add(1)  # one model call (n items may share its response)
        self._p.update(self._t, advance=n, failures=self.failures, hits=self.hits)
