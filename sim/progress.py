"""The progress bar every long command shows: done, rate, time elapsed and left."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

#: Tasks finished (this session) before a time left is shown: the first tasks carry the
#: start-up (worker processes, loading the kernel), so a pace from one of them misleads.
MIN_DONE_FOR_ESTIMATE = 3


def _done(task) -> float:
    return task.completed - task.fields.get("resumed", 0)  # tasks finished this session


class RateColumn(ProgressColumn):
    """Tasks per minute so far."""

    def render(self, task) -> Text:
        done = _done(task)
        elapsed = task.finished_time if task.finished else task.elapsed
        return Text(f"{done / elapsed * 60:.1f}/min" if elapsed and done > 0 else "–/min")


def time_left(task) -> float | None:
    """Seconds left at the average pace of this session; None until a few tasks are done,
    and when finished (nothing is left to estimate)."""
    done = _done(task)
    if task.finished or task.total is None or not task.elapsed or done < MIN_DONE_FOR_ESTIMATE:
        return None
    return max(0.0, (task.total - task.completed) * task.elapsed / done)


def _clock(seconds: float) -> str:
    return str(dt.timedelta(seconds=round(seconds)))


class Pace:
    """`done/total, 0:01:23 left` for a status line (where a bar does not fit), with the
    estimate of `time_left`."""

    def __init__(self, total: int):
        self.total, self.done, self.began = total, 0, time.monotonic()

    def tick(self) -> str:
        self.done += 1
        text = f"{self.done}/{self.total}"
        if MIN_DONE_FOR_ESTIMATE <= self.done < self.total:
            left = (self.total - self.done) * (time.monotonic() - self.began) / self.done
            text += f", {_clock(left)} left"
        return text


class TimeLeftColumn(ProgressColumn):
    """`0:01:23 left` from the average pace; blank until it can be estimated and when done."""

    def render(self, task) -> Text:
        left = time_left(task)
        if left is None:
            return Text("")
        return Text(f"{_clock(left)} left", style="progress.remaining")


def progress(console: Console, quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeLeftColumn(),
        console=console,
        disable=quiet,
        transient=False,
    )


@contextlib.contextmanager
def task_bar(description: str, total: int, quiet: bool = False) -> Iterator[Callable[[], None]]:
    """A bar on stderr for work a person waits for (replay, the report); yields `advance`.

    Shown only when stderr is a terminal, so scripts, JSON output and tests see nothing.
    """
    console = Console(stderr=True)
    with progress(console, quiet or not console.is_terminal) as bar:
        job = bar.add_task(description, total=total)
        yield lambda: bar.advance(job)
