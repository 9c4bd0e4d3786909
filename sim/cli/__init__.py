"""Layer 11 — the `sektorsim` command line: the typer app and one module per command group."""

from sim.cli.commands import app, main

__all__ = ["app", "main"]
