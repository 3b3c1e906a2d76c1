"""Console output shared by the CLI modules: the consoles, `escape` and `one_line` for untrusted
text, and `friendly`, which turns a TrustbenchError into one line on stderr and a non-zero exit.
rich is imported at the first output, not with the CLI: a run's first requests go out before it."""

from __future__ import annotations

import functools
from typing import Any

import typer
from trustbench.errors import TrustbenchError


class LazyConsole:
    """A rich Console made at its first use."""

    def __init__(self, **options: Any):
        self._options = options
        self._console: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


console = LazyConsole(highlight=False)
err_console = LazyConsole(stderr=True, highlight=False)


def escape(text: str) -> str:
    """Text shown as it is in rich markup (rich.markup.escape)."""
    from rich.markup import escape as markup_escape

    return markup_escape(text)


def one_line(text: str) -> str:
    """Untrusted text (server bodies, file names, model output) made safe to print: control
    characters such as terminal escapes and newlines are shown as \\xNN, so an error stays one line."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else " " for c in text)


def friendly(fn):
    """Turn TrustbenchError into one line on stderr and a non-zero exit; Ctrl-C into exit 130."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TrustbenchError as e:
            err_console.print(f"error: {escape(one_line(str(e)))}", soft_wrap=True)
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            err_console.print("interrupted: responses so far are cached; rerun the same command to resume")
            raise typer.Exit(130) from None

    return wrapper
