"""Log output for operators: LOG_FORMAT=json (one object per line, with the request id),
and no noise from clients that leave before their answer arrived."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import struct

import httpx
import pytest
from granian.log import LogLevels, configure_logging

from backend.runtime.config import Settings
from backend.runtime.servers import granian_log_config

from . import pg
from .servers import free_port, server

BIG_ASSET = "/docs/assets/swagger-ui-bundle.js"  # ~1.5 MB: still being sent when we leave


def leave_mid_response(port: int, path: str) -> None:
    """What a closed browser tab does: ask, read a little, reset the connection. A small
    receive buffer keeps the server busy sending when the reset comes."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def test_json_logs_and_no_noise_from_clients_that_left(pg_server: str) -> None:
    """The real server (granian) with LOG_FORMAT=json: every line it writes, its own and the
    migration's, is one JSON object; clients that hang up mid-response log nothing."""
    with pg.scratch_database(pg_server, "logs") as url:
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "PORT": str(port), "LOG_FORMAT": "json"}
        with server(["serve"], env) as proc:
            for _ in range(5):
                await asyncio.to_thread(leave_mid_response, port, BIG_ASSET)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                assert (await client.get("/readyz")).status_code == 200
            proc.send_signal(signal.SIGINT)  # drains: the requests above are logged by then
            assert await asyncio.to_thread(proc.wait, 30) == 0
            await asyncio.to_thread(proc.reader.join, 30)
    lines = [line for line in proc.log if line.strip()]
    records = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    assert all({"time", "level", "logger", "request_id", "message"} <= set(r) for r in records)
    messages = [r["message"] for r in records]
    assert any(m.startswith("todoapp serving on") for m in messages)
    assert "Started worker-1" in messages
    assert not [m for m in messages if "transport error" in m]


def test_granian_keeps_its_lines_but_not_closed_connection_noise(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Granian's logging set up as `todoapp serve` sets it up (by granian's own function, as
    each of its processes does); its Rust core logs below `_granian`."""
    configure_logging(LogLevels.info, granian_log_config("text"))
    core = logging.getLogger("_granian.asgi.io")
    core.info('ASGI transport error: "Closed(..)"')
    core.info("Started worker-1")
    logging.getLogger("_granian").warning("ASGI transport error: something else")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("INFO _granian.asgi.io [-] Started worker-1")
    assert lines[1].endswith("WARNING _granian [-] ASGI transport error: something else")


def test_log_format_must_be_text_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        Settings.from_env()
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    assert Settings.from_env().log_format == "json"
