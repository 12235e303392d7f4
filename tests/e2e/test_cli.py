"""The `timeline` command as an operator uses it: migrate, seed twice, manage keys, serve."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import inherited_socket, main
from tests.databases import SqliteDatabases
from tests.support import local_http
from tests.support.live import START_BOUND, TIMELINE, LiveServer, server_env


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite URL in a fresh folder (no file yet), set as the CLI's database."""
    (tmp_path / "nested").mkdir()
    url = f"sqlite:///{tmp_path / 'nested' / 'timeline.db'}"
    monkeypatch.setenv("TIMELINE_DATABASE_URL", url)
    return url


UPGRADE = "run `timeline db upgrade`"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_seed_appends_once_and_then_says_there_is_nothing_to_add(database: str) -> None:
    assert run("db", "upgrade")[0] == 0
    code, _, said = run("seed")
    assert code == 0
    assert "appended 62 seed events in 5 streams" in said
    code, _, said = run("seed")
    assert code == 0
    assert "nothing to add: all 62 seed events are already in the log" in said


ARTICLES = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"


@pytest.mark.skipif(not ARTICLES.is_dir(), reason=f"the seed articles are not at {ARTICLES}")
def test_seed_with_texts_attaches_each_article_to_its_source_once(
    database: str, tmp_path: Path
) -> None:
    assert run("db", "upgrade")[0] == 0
    folder = tmp_path / "articles"
    folder.mkdir()
    for article in ARTICLES.glob("*.txt"):
        (folder / article.name).write_bytes(article.read_bytes())
    (folder / "notes.txt").write_text("not an article of the data set")
    code, _, said = run("seed", "--texts", str(folder))
    assert code == 0, said
    assert "attached 004_ce0fcfcbd8416ad1.txt to rt-2025-03-13" in said
    assert "notes.txt matches no source of the data set" in said
    assert "5 of 5 sources have a text" in said and "not in their source's text" not in said
    code, _, said = run("seed", "--texts", str(folder))
    assert code == 0 and "rt-2025-03-13 has 004_ce0fcfcbd8416ad1.txt already" in said


def test_seed_with_a_missing_texts_folder_is_one_line_of_error(database: str) -> None:
    assert run("db", "upgrade")[0] == 0
    code, _, said = run("seed", "--texts", "no/such/folder")
    assert code == 2
    assert "Directory 'no/such/folder' does not exist" in said and "Traceback" not in said


def test_keys_create_prints_the_key_alone_on_its_last_line(database: str) -> None:
    run("db", "upgrade")
    code, out, _ = run(
        "keys", "create", "--scope", "events:write", "--scope", "admin", "--name", "desk"
    )
    assert code == 0
    token = out.strip().splitlines()[-1]
    assert token.startswith("tl_") and " " not in token
    code, out, _ = run("keys", "list")
    [line] = out.strip().splitlines()
    key_id, name, scopes, state, _ = line.split("\t")
    assert (name, scopes, state) == ("desk", "admin,events:write", "live")
    assert token.split("_")[1] == key_id
    assert run("keys", "revoke", key_id)[0] == 0
    assert "\trevoked\t" in run("keys", "list")[1]


def test_an_unknown_scope_is_refused_with_a_usage_message(database: str) -> None:
    code, _, said = run("keys", "create", "--scope", "everything")
    assert code == 2
    assert "everything" in said and "Traceback" not in said


def test_a_database_that_cannot_be_opened_is_one_line_of_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TIMELINE_DATABASE_URL", "mysql://nowhere/db")
    code, _, said = run("db", "upgrade")
    assert code == 1
    assert said.startswith("error:") and "unsupported database" in said
    assert "Traceback" not in said


def test_revoking_an_unknown_key_fails_politely(database: str) -> None:
    run("db", "upgrade")
    code, _, said = run("keys", "revoke", "nope")
    assert code == 1 and "no live key 'nope'" in said


def test_verify_exits_0_on_an_intact_log_and_1_naming_the_first_broken_position(
    database: str,
) -> None:
    import sqlite3

    run("db", "upgrade")
    code, out, _ = run("verify")
    assert code == 0 and "intact: 0 events checked" in out
    run("seed")
    code, out, _ = run("verify", "--batch", "7")
    assert code == 0 and "intact: 62 events checked; head 62" in out
    conn = sqlite3.connect(database.removeprefix("sqlite:///"))
    conn.execute("DROP TRIGGER events_no_update")  # the log's guard, lifted behind our back
    conn.execute("UPDATE events SET payload = '{}' WHERE position = 17")
    conn.commit()
    conn.close()
    code, out, said = run("verify")
    assert code == 1
    assert "BROKEN at position 17" in out and "Traceback" not in said


def test_verify_says_why_when_the_log_cannot_be_read(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, said = run("verify")  # not migrated
    assert code == 2 and "could not be verified" in said and UPGRADE in said
    monkeypatch.setenv(
        "TIMELINE_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/timeline?connect_timeout=2"
    )
    code, _, said = run("verify")
    assert code == 2 and said.startswith("error: the log could not be verified")
    assert "Traceback" not in said


def test_serve_answers_over_real_http_with_the_seed_data(live: LiveServer) -> None:
    with urllib.request.urlopen(f"{live.base}/v1/events?limit=500") as response:
        page = json.load(response)
    assert len(page["items"]) == 62
    assert page["next"] is None
    types = {e["type"] for e in page["items"]}
    assert {"SourceRegistered", "PositionStated", "EventDisputed", "EnvoyArrived"} <= types


def test_an_inherited_listening_socket_keeps_its_own_family() -> None:
    # uvicorn's --fd took it for a Unix socket, so asyncio left Nagle's algorithm on for every
    # TCP connection and each keep-alive response waited ~40 ms for a delayed ACK.
    with socket.create_server(("127.0.0.1", 0)) as listening:
        inherited = inherited_socket(os.dup(listening.fileno()))
        try:
            assert (inherited.family, inherited.type) == (socket.AF_INET, socket.SOCK_STREAM)
            assert inherited.getsockname() == listening.getsockname()
        finally:
            inherited.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_hands_an_inherited_socket_over_as_it_is(
    workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one worker or several: uvicorn's own `fd=` would take it for a Unix socket (Nagle
    left on: ~40 ms a keep-alive response, as the benchmark's two-worker runs showed)."""
    import uvicorn
    import uvicorn.supervisors

    served: list[socket.socket] = []

    class Server:
        def __init__(self, config: object) -> None:
            pass

        def run(self, sockets: list[socket.socket]) -> None:
            served.extend(sockets)

    class Multiprocess(Server):
        def __init__(self, config: object, sockets: list[socket.socket]) -> None:
            served.extend(sockets)

        def run(self) -> None:  # type: ignore[override]
            pass

    monkeypatch.setattr(uvicorn, "Server", Server)
    monkeypatch.setattr(uvicorn.supervisors, "Multiprocess", Multiprocess)
    monkeypatch.setenv("TIMELINE_DATABASE_URL", "postgresql://u@127.0.0.1:9/none")
    with socket.create_server(("127.0.0.1", 0)) as listening:
        fd = os.dup(listening.fileno())
        code, _, said = run("serve", "--fd", str(fd), "--workers", str(workers))
        assert code == 0, said
        [handed] = served
        assert (handed.family, handed.type) == (socket.AF_INET, socket.SOCK_STREAM)
        assert handed.getsockname() == listening.getsockname()
        handed.close()


def test_serve_binds_the_host_and_port_it_is_given(
    sqlite_databases: SqliteDatabases, tmp_path: Path
) -> None:
    """As `make run` serves (the live servers of the other tests are handed a socket instead):
    port 0 lets the kernel choose, and uvicorn's log says which port it bound."""
    env = server_env(sqlite_databases.seeded().raw)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [TIMELINE, "serve", "--host", "127.0.0.1", "--port", "0"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_BOUND
        while not (
            bound := re.search(r"serving sqlite at http://127\.0\.0\.1:(\d+)/v1", log.read_text())
        ):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)  # uvicorn says nothing on stdout when it is ready but this line
        health = local_http.get(f"http://127.0.0.1:{bound[1]}/v1/health", timeout=10)
        assert health.status_code == 200
        assert health.json()["head"] == 62
    finally:
        process.terminate()
        process.wait(timeout=30)


def _health(url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    from litestar.testing import TestClient

    from api.app import create_app

    monkeypatch.setenv("TIMELINE_DATABASE_URL", url)
    with TestClient(app=create_app()) as client:
        response = client.get("/v1/health")
        assert response.status_code == 200
        health: dict[str, object] = response.json()
        return health


def test_export_then_import_restores_the_log_into_a_new_database(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("db", "upgrade")
    run("seed")
    backup = tmp_path / "backup.jsonl"
    code, out, said = run("export", "--output", str(backup))
    assert code == 0 and out == "" and "exported 62 events; head 62" in said
    code, piped, _ = run("export")  # to stdout: the same lines (the header's time aside)
    assert code == 0 and piped.splitlines()[1:] == backup.read_text().splitlines()[1:]

    (tmp_path / "restored").mkdir()
    restored = f"sqlite:///{tmp_path / 'restored' / 'timeline.db'}"
    monkeypatch.setenv("TIMELINE_DATABASE_URL", restored)
    run("db", "upgrade")
    code, _, said = run("import", str(backup))
    assert code == 0 and "imported 62 events (head 62" in said, said
    code, out, _ = run("verify")
    assert code == 0 and "intact: 62 events checked; head 62" in out
    assert _health(restored, monkeypatch) == _health(database, monkeypatch)

    code, _, said = run("import", str(backup))
    assert code == 1 and "already holds 62 events" in said and "Traceback" not in said


def test_import_refuses_a_corrupted_file_naming_the_line_and_writes_nothing(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("db", "upgrade")
    run("seed")
    backup = tmp_path / "backup.jsonl"
    run("export", "-o", str(backup))
    lines = backup.read_text().splitlines(keepends=True)
    lines[9] = lines[9].replace('"payload":{', '"payload":{"forged":1,', 1)
    corrupted = tmp_path / "corrupted.jsonl"
    corrupted.write_text("".join(lines))
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("TIMELINE_DATABASE_URL", f"sqlite:///{empty / 'timeline.db'}")
    run("db", "upgrade")
    code, _, said = run("import", str(corrupted))
    assert code == 1 and "line 10: the hash chain breaks at position 9" in said
    assert "Traceback" not in said
    code, out, _ = run("verify")
    assert code == 0 and "intact: 0 events checked" in out


def test_db_upgrade_says_what_it_did_and_seeds_in_the_same_process(database: str) -> None:
    code, _, said = run("db", "upgrade", "--seed")
    assert code == 0
    assert "created the database" in said and "timeline.db at the newest schema" in said
    assert "appended 62 seed events in 5 streams" in said
    code, _, said = run("db", "upgrade", "--seed")
    assert code == 0
    assert "was already at the newest schema" in said
    assert "nothing to add: all 62 seed events are already in the log" in said


def test_a_port_in_use_is_one_line_that_names_it_and_another(
    sqlite_databases: SqliteDatabases, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIMELINE_DATABASE_URL", sqlite_databases.seeded().raw)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code, _, said = run("serve", "--port", str(port))
    assert code == 2
    assert f"127.0.0.1:{port} is in use" in said
    assert f"PORT={port + 1} make run" in said
    assert "Traceback" not in said
    assert "serving" not in said  # said only once the socket is bound


def test_a_log_seeded_with_an_earlier_data_set_is_told_to_start_afresh(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    import seeds.dataset

    assert run("db", "upgrade", "--seed")[0] == 0
    streams = seeds.dataset.load_dataset()
    first, *rest = streams
    changed = dict(first.events[0], occurred_at="2025-03-01")  # same id, other content
    edited = dataclasses.replace(first, events=(changed, *first.events[1:]))
    monkeypatch.setattr(seeds.dataset, "load_dataset", lambda: (edited, *rest))

    code, _, said = run("seed")

    assert code == 1
    assert "seeded with an earlier version of the data set" in said
    assert "delete var/timeline.db" in said
    assert "Traceback" not in said
