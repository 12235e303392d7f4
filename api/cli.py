"""The `timeline` command: serve, migrate, seed, manage API keys, verify the log.

Only click is imported up front: the store (sqlalchemy, alembic), the app and rich are imported
by the commands that use them, so that `timeline --help` and a mistyped argument answer at once.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import click

from store.scopes import SCOPES

if TYPE_CHECKING:
    from rich.console import Console

    from store.backup import BackupReport
    from store.database import DatabaseUrl
    from store.keys import KeyStore
    from store.ports import ChainReport
    from store.rebuild import RebuildReport

T = TypeVar("T")


@cache
def err() -> Console:
    """Rich output on stderr: progress, confirmations, errors."""
    from rich.console import Console

    return Console(stderr=True)


@cache
def out() -> Console:
    """Rich output on stdout."""
    from rich.console import Console

    return Console()


def _run(work: Callable[[], Awaitable[T]]) -> T:
    import asyncio

    return asyncio.run(work())  # type: ignore[arg-type]


def _print_error(message: str) -> None:
    from rich.markup import escape

    err().print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)


class FriendlyGroup(click.Group):
    """Turns expected failures into one readable line and exit status 1, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit):
            raise
        except Exception as error:
            _print_error(_describe(error))
            sys.exit(1)


def _describe(error: Exception) -> str:
    """An error as one line, never quoting SQL parameters (a key's hash, a webhook secret)."""
    from store.boundary import described
    from store.errors import StoreError

    if isinstance(error, StoreError | ValueError | OSError):
        return str(error)
    return described(error) or f"{type(error).__name__}: {error}"


def _ready_url() -> DatabaseUrl:
    """The configured database, once it is known to be at the newest schema: a command that
    needs the schema says to run `timeline db upgrade` instead of failing on a missing table."""
    from store.database import configured_url
    from store.schema import require_current_schema

    url = configured_url()
    require_current_schema(url)
    return url


@click.group(cls=FriendlyGroup)
def main() -> None:
    """Diplomatic Timeline: an event-sourced record of what negotiating parties said and did."""


@main.command()
@click.option("--host", envvar="TIMELINE_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="TIMELINE_PORT", default=8000, type=int, show_default=True)
@click.option("--workers", default=1, type=int, show_default=True)
@click.option(
    "--fd",
    type=click.IntRange(min=0),
    default=None,
    help="Serve a listening socket inherited as this file descriptor (from a supervisor's "
    "socket activation, or a test harness) instead of binding --host and --port.",
)
def serve(host: str, port: int, workers: int, fd: int | None) -> None:
    """Serve the API with uvicorn."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from api.access_log import log_config
    from api.settings import Settings
    from store.database import configured_url
    from store.errors import DatabaseUnavailable
    from store.schema import require_current_schema

    url = configured_url()
    try:
        Settings()
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    if workers > 1 and url.backend == "sqlite":
        raise click.UsageError("several workers need PostgreSQL; SQLite is served by one process")
    try:
        # Served on an old schema, every request would be a 503 and every poll a traceback.
        require_current_schema(url)
    except DatabaseUnavailable as error:
        # A PostgreSQL not up yet is an outage like any other: served, with 503s until it is.
        err().print(
            f"[yellow]warning:[/yellow] the schema could not be checked ({error}); serving",
            soft_wrap=True,
        )
    # Bound here, before saying where it serves: a port in use is one line that says so, and
    # the line "serving at" is true once printed.
    sock = inherited_socket(fd) if fd is not None else bound_socket(host, port)
    bound_port = sock.getsockname()[1] if sock.family in (socket.AF_INET, socket.AF_INET6) else 0
    where = f"http://{_host_in_url(host)}:{bound_port}" if fd is None else f"file descriptor {fd}"
    err().print(f"serving {url.backend} at {where}/v1 (docs at /v1/docs)")
    options: dict[str, Any] = {
        "factory": True,
        "workers": workers,
        "timeout_graceful_shutdown": 5,
        "log_level": "info",
        "log_config": log_config(),
    }
    # The socket as it is, not uvicorn's --fd (which takes every inherited socket for a Unix
    # one, and asyncio then leaves Nagle's algorithm on for TCP connections: each keep-alive
    # response waited ~40 ms for the client's delayed ACK), in one process or in each worker.
    config = uvicorn.Config("api.app:app_factory", **options)
    if workers == 1:
        uvicorn.Server(config).run(sockets=[sock])
    else:
        Multiprocess(config, sockets=[sock]).run()


def inherited_socket(fd: int) -> socket.socket:
    """The listening socket behind an inherited file descriptor, of its own family."""
    return socket.socket(fileno=fd)


def bound_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port, or a usage error that says why not."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise click.UsageError(
                f"{host}:{port} is in use (another server?): choose another port with "
                f"--port or TIMELINE_PORT (`PORT={port + 1} make run`)"
            ) from None
        raise click.UsageError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def _host_in_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.option(
    "--seed", "and_seed", is_flag=True, help="Then load the first data set (as `timeline seed`)."
)
def db_upgrade(and_seed: bool) -> None:
    """Migrate the database to the newest schema (creating it if need be)."""
    from store.database import configured_url
    from store.schema import schema_state, upgrade

    url = configured_url()
    before = schema_state(url)
    upgrade(url)
    newest = ", ".join(before.heads)
    where = url.sqlite_path or url.shown
    if not before.exists:
        said = f"created the database {where} at the newest schema ({newest})"
    elif not before.current:
        said = f"made the schema of the empty database {where} ({newest})"
    elif before.at_head:
        said = f"the database {where} was already at the newest schema ({newest})"
    else:
        said = f"upgraded the database {where} from {', '.join(before.current)} to {newest}"
    err().print(said, soft_wrap=True)
    _rebuild_stale_models()
    if and_seed:
        _seed(url)


def _rebuild_stale_models() -> None:
    """Rebuild the read models whose code version moved on (after an upgrade, say)."""
    from api.progress_bars import events
    from store.database import configured_url
    from store.factory import open_store
    from store.rebuild import rebuild, stale_models

    async def work() -> RebuildReport | None:
        store = open_store(configured_url())
        try:
            stale = await stale_models(store)
            if not stale:
                return None
            with events(err(), f"rebuilding {', '.join(stale)}") as advance:
                return await rebuild(store, stale, advance)
        finally:
            await store.close()

    report = _run(work)
    if report is not None:
        _print_rebuild(report)


@main.command("seed")
@click.option(
    "--texts",
    "texts",
    type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path),
    help=(
        "A folder of article texts (*.txt): each file whose SHA-256 the data set lists "
        "(seeds/ceasefire-2025/texts.sha256) is attached to its source, and the seed quotes "
        "are verified against it. The repository holds none: e.g. ../shared/seeds/."
    ),
)
def seed_command(texts: Path | None) -> None:
    """Load the first data set (the March 2025 ceasefire proposal); safe to run twice."""
    url = _ready_url()
    _seed(url)
    if texts is not None:
        _seed_texts(url, texts)


def _seed_texts(url: DatabaseUrl, directory: Path) -> None:
    from api.seeding import TextsReport, seed_texts, text_files
    from api.services import system_clock
    from store.factory import open_store

    files = text_files(directory)

    async def work() -> TextsReport:
        store = open_store(url)
        try:
            return await seed_texts(store, system_clock, files)
        finally:
            await store.close()

    report = _run(work)
    for source, name in sorted(report.attached.items()):
        err().print(f"attached {name} to {source}", soft_wrap=True)
    for source, name in sorted(report.already.items()):
        err().print(f"{source} has {name} already", soft_wrap=True)
    for name in report.unmatched:
        err().print(f"{name} matches no source of the data set: left out", soft_wrap=True)
    for source in report.missing:
        err().print(f"no text in {directory} for {source}", soft_wrap=True)
    if report.failed:
        err().print(f"{report.failed} quoted citations are not in their source's text")
    err().print(
        f"{len(report.attached) + len(report.already)} of "
        f"{len(report.attached) + len(report.already) + len(report.missing)} sources have a text",
        soft_wrap=True,
    )


def _seed(url: DatabaseUrl) -> None:
    from api.progress_bars import steps
    from api.seeding import SeedReport, seed
    from api.services import system_clock
    from seeds.dataset import load_dataset
    from store.factory import open_store

    streams = load_dataset()

    async def work() -> SeedReport:
        store = open_store(url)
        try:
            with steps(err(), "seeding", len(streams)) as step:
                return await seed(store, system_clock, streams, lambda _stream: step())
        finally:
            await store.close()

    report = _run(work)
    if report.appended == 0:
        err().print(
            f"nothing to add: all {report.already_present} seed events are already in the log"
        )
    else:
        err().print(
            f"appended {report.appended} seed events in {report.streams} streams"
            + (f" ({report.already_present} were already there)" if report.already_present else "")
        )


@main.group()
def keys() -> None:
    """API keys for writes."""


def _key_store() -> AbstractAsyncContextManager[KeyStore]:
    from store.keys import opened_key_store

    return opened_key_store(_ready_url())


@keys.command("create")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(SCOPES))
@click.option("--name", default="unnamed", show_default=True, help="Who or what holds the key.")
def keys_create(scopes: tuple[str, ...], name: str) -> None:
    """Make a key; the key is printed once, alone on the last line."""
    from api.services import system_clock

    async def work() -> str:
        async with _key_store() as store:
            key, token = await store.create(name, frozenset(scopes), system_clock())
        err().print(f"key {key.id} ({name}) with scopes {', '.join(sorted(key.scopes))}:")
        return token

    click.echo(_run(work))


@keys.command("list")
def keys_list() -> None:
    """List keys (never their secrets)."""

    async def work() -> None:
        async with _key_store() as store:
            for key in await store.list():
                state = "revoked" if key.revoked_at else "live"
                click.echo(
                    f"{key.id}\t{key.name}\t{','.join(sorted(key.scopes))}\t{state}\t"
                    f"{key.created_at.isoformat()}"
                )

    _run(work)


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke a key by its id."""
    from api.services import system_clock

    async def work() -> bool:
        async with _key_store() as store:
            return await store.revoke(key_id, system_clock())

    if not _run(work):
        raise click.ClickException(f"no live key {key_id!r}")
    err().print(f"revoked {key_id}")


@main.group()
def projections() -> None:
    """Read models derived from the log."""


@projections.command("rebuild")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option(
    "--batch",
    default=5000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Events read from the log per page.",
)
def projections_rebuild(names: tuple[str, ...], batch: int) -> None:
    """Replay the whole log into new tables for the named read models (every one when none is
    named) and swap them in; appends and reads go on meanwhile."""
    from api.progress_bars import events
    from store.factory import open_store
    from store.read_models.catalog import BY_NAME, NAMES
    from store.rebuild import rebuild

    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise click.BadParameter(
            f"no read model {unknown[0]!r}; the read models are {', '.join(NAMES)}",
            param_hint="NAME",
        )
    url = _ready_url()

    async def work() -> RebuildReport:
        store = open_store(url)
        try:
            await store.head()  # an unreachable database fails here, before any bar
            with events(err(), "replaying the log") as advance:
                return await rebuild(store, names or None, advance, batch)
        finally:
            await store.close()

    _print_rebuild(_run(work))


def _print_rebuild(report: RebuildReport) -> None:
    err().print(
        f"replayed {report.events} events into {report.rows} rows of "
        f"{', '.join(report.models)} in {report.seconds:.2f}s "
        f"({report.events_per_second:,.0f} events/s; appends waited {report.swap_seconds:.2f}s "
        f"for the swap); checkpoint at position {report.position}",
        soft_wrap=True,
    )


@projections.command("status")
def projections_status() -> None:
    """Each read model's version (stored and in this code), checkpoint and lag behind the log."""
    from rich.table import Table

    from store.factory import open_store
    from store.rebuild import ModelStatus, model_status

    url = _ready_url()

    async def work() -> list[ModelStatus]:
        store = open_store(url)
        try:
            return await model_status(store)
        finally:
            await store.close()

    table = Table("model", "version", "checkpoint", "lag", "state", "what it answers")
    for found in _run(work):
        version = f"{found.stored_version} (code {found.version})"
        state = "current" if found.current else "stale: timeline projections rebuild " + found.name
        table.add_row(
            found.name, version, str(found.checkpoint), str(found.lag), state, found.about
        )
    out().print(table)


# `timeline verify` exit statuses: scripts must tell a tampered log from one not checked at all.
INTACT, BROKEN, NOT_VERIFIED = 0, 1, 2


@main.command("verify")
@click.option(
    "--batch",
    default=5000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Events read from the log per page.",
)
def verify_command(batch: int) -> None:
    """Recompute the log's hash chain: exit 0 when intact, 1 when broken (naming the first
    broken position), 2 when the log could not be read."""
    from api.progress_bars import events
    from store.errors import StoreError
    from store.factory import open_store

    async def work(url: DatabaseUrl) -> ChainReport:
        store = open_store(url)
        try:
            await store.chain_head()  # an unreachable database fails here, before any bar
            with events(err(), "verifying the hash chain") as advance:
                return await store.verify_chain(advance, batch)
        finally:
            await store.close()

    try:
        url = _ready_url()
        report = _run(lambda: work(url))
    except (StoreError, ValueError, OSError) as error:
        err().print(f"[red]error:[/red] the log could not be verified: {error}", soft_wrap=True)
        sys.exit(NOT_VERIFIED)
    _print_verification(report)
    sys.exit(INTACT if report.ok else BROKEN)


def _print_verification(report: ChainReport) -> None:
    head = f"head {report.head}, hash {report.head_hash or '(none: the log is empty)'}"
    if report.ok:
        out().print(f"intact: {report.checked} events checked; {head}", soft_wrap=True)
        return
    out().print(
        f"[red]BROKEN[/red] at position {report.first_broken}: its hash does not follow from "
        f"its content and its predecessor's hash ({report.checked} events checked; {head})",
        soft_wrap=True,
    )


@main.command("export")
@click.option(
    "--output",
    "-o",
    default="-",
    show_default=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="The file to write (JSON Lines); - for stdout.",
)
@click.option(
    "--batch",
    default=1000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Events read from the log per page.",
)
def export_command(output: Path, batch: int) -> None:
    """Write the whole log as JSON Lines: a header, one line per event, a trailer."""
    from api.progress_bars import phases
    from api.services import system_clock
    from store.backup import export_log
    from store.factory import open_store

    to_stdout = str(output) == "-"
    url = _ready_url()

    async def work(sink: BinaryIO) -> BackupReport:
        store = open_store(url)
        try:
            with phases(err(), not to_stdout) as progress:
                return await export_log(
                    store,
                    sink.write,
                    exported_at=system_clock().isoformat(),
                    progress=progress,
                    batch=batch,
                )
        finally:
            await store.close()

    if to_stdout:
        stream = sys.stdout.buffer
        report = _run(lambda: work(stream))
        stream.flush()
    else:
        # Written aside and moved into place when whole: a failed export leaves no partial file.
        partial = output.with_name(output.name + ".partial")
        try:
            with partial.open("wb") as file:
                report = _run(lambda: work(file))
            os.replace(partial, output)
        finally:
            partial.unlink(missing_ok=True)
    err().print(
        f"exported {report.events} events; head {report.head}, "
        f"hash {report.head_hash or '(none: the log is empty)'}",
        soft_wrap=True,
    )


@main.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--batch",
    default=1000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Events inserted per statement.",
)
def import_command(path: Path, batch: int) -> None:
    """Restore a `timeline export` file into an empty, migrated database: all of it or,
    if any line is wrong, nothing (the error names the line)."""
    from api.progress_bars import phases
    from store.backup import import_log
    from store.factory import open_store

    url = _ready_url()

    async def work() -> BackupReport:
        store = open_store(url)
        try:
            with phases(err(), True) as progress:
                return await import_log(store, path, progress=progress, batch=batch)
        finally:
            await store.close()

    report = _run(work)
    err().print(
        f"imported {report.events} events (head {report.head}, "
        f"hash {report.head_hash or '(none: the log is empty)'}) "
        f"and rebuilt {report.position_rows} position rows",
        soft_wrap=True,
    )
