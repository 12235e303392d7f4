"""A PostgreSQL cluster of the test's own, which it may stop and start: the shared cluster
serves the rest of the suite and must never go down under it."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

BINARIES = Path(os.environ.get("TIMELINE_PG_BIN", "/usr/lib/postgresql/15/bin"))
OWNER = "postgres"


@dataclass(frozen=True)
class Cluster:
    """Where the cluster lives and how to reach its `timeline` database."""

    data: Path
    sockets: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://{OWNER}@/timeline?host={self.sockets}&port={self.port}"

    def start(self) -> None:
        _as_owner(
            BINARIES / "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.data / "server.log"),
            "-o",
            f"-p {self.port} -k {self.sockets} -c listen_addresses=''",
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        """Stop at once, as a crash or an operator would: open connections are cut."""
        _as_owner(BINARIES / "pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


def _as_owner(*command: str | Path) -> None:
    subprocess.run(
        ["runuser", "-u", OWNER, "--", *map(str, command)],
        check=True,
        capture_output=True,
        timeout=120,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unavailable(reason: str) -> NoReturn:
    """Fail in CI, which runs as root with PostgreSQL installed; skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must be able to run a private PostgreSQL cluster")
    pytest.skip(reason)


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """initdb, start, create the `timeline` database; stopped and removed on exit."""
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        unavailable("a private cluster needs root (to run PostgreSQL as its own user)")
    if not (BINARIES / "initdb").exists():
        unavailable(f"no PostgreSQL binaries in {BINARIES}")
    # Not pytest's tmp_path: its parents are private to root, and PostgreSQL runs as its owner.
    folder = Path(tempfile.mkdtemp(prefix="timeline-pg-"))
    folder.chmod(0o755)
    data, sockets = folder / "data", folder / "sockets"
    for made in (data, sockets):
        made.mkdir()
        shutil.chown(made, OWNER, OWNER)
    _as_owner(BINARIES / "initdb", "-D", str(data), "-A", "trust", "-U", OWNER)
    cluster = Cluster(data=data, sockets=sockets, port=_free_port())
    cluster.start()
    try:
        _as_owner(BINARIES / "createdb", "-h", str(sockets), "-p", str(cluster.port), "timeline")
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
