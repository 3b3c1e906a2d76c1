"""Plugins: objects other distributions register under a Python entry point group.

Groups: `trustbench.models` (model backends), `trustbench.judges` (judges); a plugin
distribution declares them in its pyproject.toml, e.g.

    [project.entry-points."trustbench.judges"]
    toy = "toy_judges:ToyRefusalDetector"

Entry points are read from the installed distributions each time they are asked for (cheap; a
run asks a few times), so a package installed or put on sys.path while Python runs is seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from trustbench.core.errors import SpecError


@dataclass(frozen=True)
class Plugin:
    """One entry point: its name, where it comes from, and how to load it."""

    group: str
    name: str
    value: str  # "module:attr"
    source: str  # "<distribution> <version>"
    entry_point: EntryPoint

    def load(self) -> Any:
        """The registered object; SpecError (one line) when it cannot be imported."""
        try:
            return self.entry_point.load()
        except Exception as e:  # noqa: BLE001 - any import error of third-party code
            raise SpecError(f"plugin {self.name!r} ({self.group} from {self.source}): cannot load "
                            f"{self.value} ({type(e).__name__}: {e})") from None


def plugins(group: str) -> dict[str, Plugin]:
    """The entry points of `group` by name (the first distribution wins on a duplicate name)."""
    out: dict[str, Plugin] = {}
    for ep in entry_points(group=group):
        if ep.name in out:
            continue
        dist = getattr(ep, "dist", None)
        source = f"{dist.name} {dist.version}" if dist is not None else "unknown distribution"
        out[ep.name] = Plugin(group, ep.name, ep.value, source, ep)
    return out
