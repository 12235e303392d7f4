"""The README, run as a new user runs it: a fresh copy of the checkout, no uv on the PATH,
`PORT=… make run` in one terminal, and every shell block of the README in order in another —
twice, since a user repeats them. Blocks preceded by `<!-- not run by the README runner: why -->`
are left out (the one with `make run` and `make test`, which the runner and CI run themselves,
and the test suite's commands); every other one must work as pasted, with the port swapped.

The transcript lands in test-artifacts/readme/transcript.txt.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import local_http

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
ARTIFACTS = ROOT / "test-artifacts" / "readme"
NOT_RUN = re.compile(r"^<!-- not run by the README runner: .+ -->$")
DEFAULT_ADDRESS = "127.0.0.1:8000"
# A first `make run` installs uv and the locked dependencies into the copy: minutes at most.
READY_BOUND = 600.0


def shell_blocks(text: str) -> list[tuple[str, bool]]:
    """Each ```sh block of a Markdown text, and whether the runner runs it."""
    lines = text.splitlines()
    blocks: list[tuple[str, bool]] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```sh":
            i += 1
            continue
        end = lines.index("```", i + 1)
        skipped = i > 0 and NOT_RUN.match(lines[i - 1].strip()) is not None
        blocks.append(("\n".join(lines[i + 1 : end]), not skipped))
        i = end + 1
    return blocks


def test_every_shell_block_is_run_or_says_why_not() -> None:
    blocks = shell_blocks(README.read_text())
    run = [block for block, runs in blocks if runs]
    assert len(run) >= 2, "the README's examples are not run"
    assert any("keys create" in block for block in run)
    assert all(DEFAULT_ADDRESS in block or "timeline" in block for block in run)


def test_the_runner_reads_blocks_and_their_marks() -> None:
    sample = "x\n```sh\na\n```\n<!-- not run by the README runner: b -->\n```sh\nb\n```\n"
    assert shell_blocks(sample) == [("a", True), ("b", False)]


def without_uv(path: str) -> str:
    """The PATH of a machine that never had uv: no folder holding one, and none of this
    checkout's (its .venv and .tools, which the test itself runs from)."""
    return os.pathsep.join(
        folder
        for folder in path.split(os.pathsep)
        if not (Path(folder) / "uv").exists() and not Path(folder).is_relative_to(ROOT)
    )


def fresh_copy(into: Path) -> Path:
    """The checkout's files as a clone would have them (tracked and new, nothing ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return into


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def made_run(tmp_path: Path) -> Iterator[tuple[Path, int, dict[str, str]]]:
    """`PORT=… make run` on a fresh copy, until it answers; stopped however the test ends."""
    copy = fresh_copy(tmp_path / "checkout")
    port = free_port()
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith("TIMELINE_") and k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")
        },
        "PATH": without_uv(os.environ["PATH"]),
        "PORT": str(port),
    }
    log = tmp_path / "make-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["make", "run"],
            cwd=copy,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + READY_BOUND
        while True:
            assert process.poll() is None, f"make run ended:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"make run never served:\n{log.read_text()[-3000:]}"
            try:
                if (
                    local_http.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).status_code
                    == 200
                ):
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)  # make run is installing, migrating, seeding: ask again shortly
        said = log.read_text()
        assert f"serving sqlite at http://127.0.0.1:{port}/v1" in said
        assert "created the database var/timeline.db" in said
        yield copy, port, env
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_readme_works_as_pasted_on_a_fresh_clone(
    made_run: tuple[Path, int, dict[str, str]],
) -> None:
    copy, port, env = made_run
    blocks = [block for block, runs in shell_blocks((copy / "README.md").read_text()) if runs]
    script = "\n".join(block.replace(DEFAULT_ADDRESS, f"127.0.0.1:{port}") for block in blocks)
    transcript = []
    for attempt in (1, 2):  # a user runs the examples again: they must still work
        done = subprocess.run(
            ["bash", "-x", "-euo", "pipefail", "-c", script],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        transcript.append(
            f"## run {attempt} (exit {done.returncode})\n{done.stderr}\n{done.stdout}"
        )
        assert done.returncode == 0, transcript[-1]
        assert '"stance":"rejected"' in done.stdout.replace(" ", "")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "transcript.txt").write_text("\n".join(transcript))
