"""The CLI's progress bars on stderr; imported only by the commands that draw one, since
rich.progress costs a tenth of a second to import and `timeline --help` should not pay it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

_PHASES = {
    "exporting": "exporting the log",
    "checking": "checking the file",
    "importing": "importing events",
    "projecting": "rebuilding positions",
}


class EventsPerSecond(ProgressColumn):
    """How many events a second the task is getting through."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} events/s", style="progress.data.speed")


@contextmanager
def steps(console: Console, label: str, total: int) -> Iterator[Callable[[], None]]:
    """A plain bar of `total` steps; each call of the callback is one step."""
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)


@contextmanager
def events(console: Console, label: str) -> Iterator[Callable[[int, int], None]]:
    """A bar over the log's events: `label`, done of total, events a second, time elapsed."""
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        EventsPerSecond(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance


@contextmanager
def phases(console: Console, enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A bar per phase of a backup or restore (none when not enabled)."""
    if not enabled:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def advance(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(_PHASES.get(phase, phase), total=total)
            progress.update(tasks[phase], completed=done, total=max(total, done))

        yield advance
