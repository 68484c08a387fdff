"""Start `todoapp` as a separate process, the way a user or a container does."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

TODOAPP = [sys.executable, "-m", "backend.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server(subprocess.Popen[str]):
    log: list[str]


@contextmanager
def server(args: list[str], env: dict[str, str]) -> Iterator[Server]:
    """Start `todoapp serve ...`; return once Hypercorn says it is listening. Its output is
    read on (into proc.log) by a thread, so a full pipe never blocks the server."""
    proc = Server(
        TODOAPP + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:  # blocks until the server writes: no polling
            seen.append(line)
            if "Running on" in line:
                break
        else:
            raise AssertionError("server exited before listening:\n" + "".join(seen))
        proc.log = seen
        threading.Thread(target=seen.extend, args=(proc.stdout,), daemon=True).start()
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
