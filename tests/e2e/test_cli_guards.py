"""The `timeline` command refuses a database it cannot work on, in one line that says what to do:
a schema not at the newest revision, a malformed TIMELINE_DATABASE_URL, a SQLite file in a folder
that does not exist. Never a traceback, never a statement's parameters."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy.exc
import uvicorn
from click.testing import CliRunner

from api.cli import _describe, main
from store.database import DatabaseUrl
from store.schema import downgrade
from tests.databases import PostgresDatabases, SqliteDatabases
from tests.support.live import START_BOUND, TIMELINE, server_env

UPGRADE = "run `timeline db upgrade`"

# Every command that needs the schema, as an operator types it (`import` gets a file that
# exists; it is refused before the file is read).
NEEDS_SCHEMA = [
    ("keys", "create", "--scope", "admin", "--name", "desk"),
    ("keys", "list"),
    ("keys", "revoke", "0123456789abcdef"),
    ("seed",),
    ("export",),
    ("import", "{backup}"),
    ("projections", "rebuild"),
    ("projections", "status"),
    ("verify",),
    ("serve",),
]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records whether `serve` went as far as starting uvicorn (it must not)."""
    calls: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_args, **_kwargs: calls.append("run"))
    return calls


@pytest.fixture(scope="module")
def outdated_template(sqlite_databases: SqliteDatabases) -> Iterator[Path]:
    """A SQLite database one migration behind the newest, made once for the module."""
    url = sqlite_databases.fresh()
    downgrade(url, "-1")
    yield Path(url.raw.removeprefix("sqlite:///"))
    sqlite_databases.release(url)


def _database(state: str, folder: Path, outdated_template: Path) -> Path:
    path = folder / "timeline.db"
    if state == "empty":
        sqlite3.connect(path).close()  # a file, but no tables
    elif state == "outdated":
        shutil.copyfile(outdated_template, path)
    return path


@pytest.mark.parametrize("state", ["missing", "empty", "outdated"])
@pytest.mark.parametrize("command", NEEDS_SCHEMA, ids=" ".join)
def test_a_command_that_needs_the_schema_says_to_run_db_upgrade(
    state: str,
    command: tuple[str, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    outdated_template: Path,
    served: list[str],
) -> None:
    path = _database(state, tmp_path, outdated_template)
    monkeypatch.setenv("TIMELINE_DATABASE_URL", f"sqlite:///{path}")
    backup = tmp_path / "backup.jsonl"
    backup.write_text("{}\n")

    code, out, said = run(*(part.format(backup=backup) for part in command))

    assert code == (2 if command == ("verify",) else 1), said
    assert said.startswith("error:") and UPGRADE in said
    assert len(said.strip().splitlines()) == 1, said
    assert "Traceback" not in said + out and "[SQL" not in said
    assert served == []
    assert path.exists() == (state != "missing")  # a missing database is not made by asking


def test_serve_on_a_database_without_the_schema_exits_at_once_saying_what_to_run(
    sqlite_databases: SqliteDatabases,
) -> None:
    """The real process: it used to serve 503s and log a traceback every second."""
    url = sqlite_databases.empty()
    sqlite3.connect(url.raw.removeprefix("sqlite:///")).close()

    done = subprocess.run(
        [TIMELINE, "serve", "--port", "0"],
        env=server_env(url.raw),
        capture_output=True,
        text=True,
        timeout=START_BOUND,
    )

    assert done.returncode == 1
    assert "has no schema yet: run `timeline db upgrade`" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_on_postgresql_too_an_empty_or_outdated_database_is_refused(
    postgresql_databases: PostgresDatabases, monkeypatch: pytest.MonkeyPatch, served: list[str]
) -> None:
    empty = postgresql_databases.empty()
    outdated = postgresql_databases.fresh()
    try:
        downgrade(outdated, "-1")
        for url, why in ((empty, "has no schema yet"), (outdated, "is at schema revision")):
            monkeypatch.setenv("TIMELINE_DATABASE_URL", url.raw)
            for command in (("keys", "create", "--scope", "admin"), ("serve",)):
                code, _, said = run(*command)
                assert code == 1 and why in said and UPGRADE in said, said
                assert "[SQL" not in said and "Traceback" not in said
        assert served == []
    finally:
        postgresql_databases.release(empty)
        postgresql_databases.release(outdated)


def test_db_upgrade_makes_the_file_in_a_folder_that_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "timeline.db"
    monkeypatch.setenv("TIMELINE_DATABASE_URL", f"sqlite:///{path}")
    code, _, said = run("db", "upgrade")
    assert code == 0, said
    assert path.exists()
    assert run("keys", "list") == (0, "", "")


@pytest.mark.parametrize("command", [("db", "upgrade"), ("serve",), ("keys", "list"), ("seed",)])
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


def test_a_database_error_is_one_line_without_the_statement_or_its_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A damaged database (its schema at the newest revision, a table gone): `keys create`
    printed the INSERT with its parameters, the new key's hash among them."""
    path = tmp_path / "timeline.db"
    monkeypatch.setenv("TIMELINE_DATABASE_URL", f"sqlite:///{path}")
    assert run("db", "upgrade")[0] == 0
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE api_keys")

    code, out, said = run("keys", "create", "--scope", "admin")

    assert (code, out) == (1, "")
    # SQLite reports a missing table as an operational error: the store's boundary says so.
    assert said.strip() == "error: no such table: api_keys"


def test_a_driver_message_is_cut_before_the_lines_that_quote_values() -> None:
    """PostgreSQL's DETAIL line quotes the row at fault."""
    orig = Exception(
        'duplicate key value violates unique constraint "api_keys_secret_hash_key"\n'
        "DETAIL:  Key (secret_hash)=(3e017fa6a283) already exists."
    )
    error = sqlalchemy.exc.IntegrityError(
        "INSERT INTO api_keys (secret_hash) VALUES (%(secret_hash)s)",
        {"secret_hash": "3e017fa6a283"},
        orig,
    )
    described = _describe(error)
    assert described == (
        'database error: duplicate key value violates unique constraint "api_keys_secret_hash_key"'
    )


def test_database_url_refuses_what_an_engine_would_misread() -> None:
    with pytest.raises(ValueError, match="three slashes"):
        DatabaseUrl("sqlite://var/timeline.db")
    with pytest.raises(ValueError, match="not a database URL") as refused:
        DatabaseUrl("postgresql://editor:s3cret@db:port/timeline")
    assert "s3cret" not in str(refused.value)
