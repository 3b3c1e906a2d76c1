"""The `trustbench` command line."""

import typer

app = typer.Typer(no_args_is_help=False, add_completion=False)


def main() -> None:
    app()
