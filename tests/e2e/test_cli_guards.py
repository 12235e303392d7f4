"""The `timeline` command refuses a database it cannot work on, in one line that says what to do:
a malformed TIMELINE_DATABASE_URL, a SQLite file in a folder that does not exist. Never a
traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import uvicorn
from click.testing import CliRunner

from api.cli import main
from store.database import DatabaseUrl


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records whether `serve` went as far as starting uvicorn (it must not)."""
    calls: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_args, **_kwargs: calls.append("run"))
    return calls


def test_db_upgrade_makes_the_file_in_a_folder_that_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "timeline.db"
    monkeypatch.setenv("TIMELINE_DATABASE_URL", f"sqlite:///{path}")
    code, _, said = run("db", "upgrade")
    assert code == 0, said
    assert path.exists()
    assert run("keys", "list") == (0, "", "")


@pytest.mark.parametrize("command", [("db", "upgrade"), ("keys", "list"), ("seed",)])
def test_a_sqlite_file_in_a_missing_folder_is_an_error_and_no_folder_is_made(
    command: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: list[str]
) -> None:
    path = tmp_path / "mistyped" / "timeline.db"
    monkeypatch.setenv("TIMELINE_DATABASE_URL", f"sqlite:///{path}")

    code, _, said = run(*command)

    assert code == 1
    assert said.startswith(f"error: folder {path.parent} does not exist"), said
    assert "Traceback" not in said
    assert not path.parent.exists()
    assert served == []


@pytest.mark.parametrize(
    "url",
    [
        "timeline.db",
        "postgresql://editor:s3cret@db.example:fivefourthreetwo/timeline",
        "sqlite://var/timeline.db",  # two slashes: a host, and the file in the working folder
        "sqlite://",  # in memory: gone when the command ends
        "mysql://editor:s3cret@db.example/timeline",
    ],
)
@pytest.mark.parametrize("command", [("db", "upgrade"), ("serve",), ("keys", "list")])
def test_a_malformed_database_url_is_an_error_that_names_the_variable(
    url: str,
    command: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
    served: list[str],
) -> None:
    monkeypatch.setenv("TIMELINE_DATABASE_URL", url)

    code, _, said = run(*command)

    assert code == 1
    assert said.startswith("error: TIMELINE_DATABASE_URL: "), said
    assert "s3cret" not in said and "Traceback" not in said
    assert served == []


def test_database_url_refuses_what_an_engine_would_misread() -> None:
    with pytest.raises(ValueError, match="three slashes"):
        DatabaseUrl("sqlite://var/timeline.db")
    with pytest.raises(ValueError, match="not a database URL") as refused:
        DatabaseUrl("postgresql://editor:s3cret@db:port/timeline")
    assert "s3cret" not in str(refused.value)
