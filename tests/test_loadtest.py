"""`todoapp loadtest` against the live server: its numbers add up and its verification
passes; and the verification does catch a write the server did not keep."""

from __future__ import annotations

import asyncio
import json
import os
import re

import httpx
import pytest
from sqlalchemy import text

from backend.runtime import cli
from todoapp_tools import loadtest

from .servers import TODOAPP
from .users import ALICE_TOKEN


async def test_loadtest_reports_and_verifies(live_server: str, clean_db: object) -> None:
    report = await loadtest.run(live_server, clients=4, duration=2, seed=7, token=ALICE_TOKEN)

    assert report.ok, report.failures
    assert report.requests > 0
    assert sum(report.statuses.values()) == report.requests
    assert sum(op["requests"] for op in report.by_operation.values()) == report.requests
    assert set(report.statuses) <= {"200", "201", "204"}, report.statuses
    assert report.errors == {}
    assert report.rps > 0
    assert 0 < report.latency_ms["p50"] <= report.latency_ms["p90"] <= report.latency_ms["p99"]
    assert report.created > 0
    assert report.uncertain == 0
    # Everything it created and did not delete is what the server lists for its list.
    assert report.listed == report.expected_in_list == report.created - report.deleted
    assert report.verified_todos == report.expected_in_list
    # Its list is removed afterwards (to the trash, its todos with it).
    async with clean_db.connect() as conn:  # type: ignore[attr-defined]
        query = text("SELECT name FROM todo_lists WHERE deleted_at IS NULL")
        lists = (await conn.execute(query)).scalars().all()
    assert lists == ["Inbox"]


async def test_loadtest_command_prints_json_and_exits_0(
    live_server: str, clean_db: object, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["loadtest", "--url", live_server, "--clients", "2", "--duration", "1", "--json"]
    argv += ["--token", ALICE_TOKEN]
    # Its own event loop in a thread; the live server keeps running in this one.
    code = await asyncio.to_thread(cli.main, argv)
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["ok"] is True
    assert out["requests"] == sum(int(n) for n in out["statuses"].values())


async def test_loadtest_command_shows_only_its_progress_line_and_report(
    live_server: str, clean_db: object
) -> None:
    """As a user runs it, at the default log level: no per-request log lines from the
    HTTP client over the progress line (a 5-second run used to print ~2,500)."""
    argv = ["loadtest", "--url", live_server, "--clients", "2", "--duration", "1"]
    argv += ["--token", ALICE_TOKEN]
    proc = await asyncio.create_subprocess_exec(
        *TODOAPP,
        *argv,
        env={**os.environ, "LOG_LEVEL": "INFO"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = (stream.decode() for stream in await proc.communicate())

    assert proc.returncode == 0, out + err
    assert "HTTP Request:" not in out + err
    # stderr is the progress line, redrawn in place, and nothing else.
    redraws = [part for part in re.split(r"[\r\n]", err) if part.strip()]
    assert redraws, "no progress line"
    progress = re.compile(r"\[ *[\d.]+/1s\] \d+ requests, +\d+ req/s, \d+ errors *")
    assert all(progress.fullmatch(part) for part in redraws), redraws
    assert "verification: OK" in out
    assert re.match(r"\d+ requests in [\d.]+ s with 2 clients", out), out


async def test_verification_catches_a_lost_write(live_client: httpx.AsyncClient) -> None:
    created = (await live_client.post("/api/todos", json={"title": "kept"})).json()
    report = loadtest.Report(url="", clients=1, duration_s=0, list_id=created["list_id"])
    state = loadtest.ClientState(
        todos={
            created["id"]: loadtest.Expected(completed=True, title="kept"),  # stale state
            10_000_000: loadtest.Expected(),  # "acknowledged" but never stored
        }
    )
    await loadtest._verify(live_client, report, [state], concurrency=2)

    assert not report.ok
    assert any("10000000: GET 404" in f for f in report.failures)
    assert any(f"todo {created['id']}: completed=False" in f for f in report.failures)
    assert any("holds 1 todos; acknowledged 2" in f for f in report.failures)


async def test_verification_reads_a_full_page_listing(live_client: httpx.AsyncClient) -> None:
    """Exactly one full page (1,000 todos, no next link) is still checked id by id."""
    created = await live_client.post("/api/todos", json=[{"title": f"t{i}"} for i in range(1000)])
    assert created.status_code == 201
    todos = created.json()
    stray = todos[-1]["id"]  # in the list, but never acknowledged to the load test
    report = loadtest.Report(url="", clients=1, duration_s=0, list_id=todos[0]["list_id"])
    state = loadtest.ClientState(
        todos={t["id"]: loadtest.Expected(title=t["title"]) for t in todos}
    )
    del state.todos[stray]

    await loadtest._verify(live_client, report, [state], concurrency=8)

    assert f"unacknowledged todos listed: [{stray}]" in report.failures
