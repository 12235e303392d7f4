"""The suite's own timeout, as `make test` runs it (xdist workers): a test that hangs fails by
name with its traceback, and its worker goes on to the next test.

pytest-timeout's thread method ended the whole worker instead; xdist then said only "node down:
Not properly terminated", and the stack dump went to the worker's stdout, which is /dev/null."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HANGING = """
import time


def test_hangs():
    time.sleep(60)


def test_runs_after_it():
    pass
"""


def test_a_hung_test_fails_with_its_traceback_and_its_worker_goes_on(tmp_path: Path) -> None:
    (tmp_path / "test_hanging.py").write_text(HANGING)
    # Only the two plugins at play: the others (schemathesis, hypothesis) take seconds to load.
    command = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml")]
    command += ["--rootdir", str(tmp_path), "-p", "no:cacheprovider", "-p", "xdist"]
    command += ["-p", "pytest_timeout", "-n", "1", "--timeout", "2", "-rA", "test_hanging.py"]
    environment = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    run = subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120
    )
    said = run.stdout + run.stderr
    assert run.returncode == 1, said
    assert "node down" not in said and "crashed" not in said, said
    assert "FAILED test_hanging.py::test_hangs - Failed: Timeout (>2.0s)" in said, said
    assert ">       time.sleep(60)" in said, "the traceback shows where it hung"
    assert "PASSED test_hanging.py::test_runs_after_it" in said, said
