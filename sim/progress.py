"""The progress bar every long command shows: done, rate, time elapsed and left."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Tasks per minute so far."""

    def render(self, task) -> Text:
        done = task.completed - task.fields.get("resumed", 0)  # tasks finished this session
        elapsed = task.finished_time if task.finished else task.elapsed
        return Text(f"{done / elapsed * 60:.1f}/min" if elapsed and done > 0 else "–/min")


def progress(console: Console, quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
        transient=False,
    )
