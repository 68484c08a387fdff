"""The README's shell examples, run in order against a new `todoapp serve`, as a reader
pasting them would: the README cannot drift from the server.

The rule for which ```bash blocks run: a block whose every command starts with `curl` (they
talk to the server). Blocks of other commands (`make run`, `todoapp serve`, `docker compose`,
load tests) start servers or need tools of their own and do not run here; a block mixing
both is refused, so that the rule stays clear. A command's trailing comment that starts with
a status code (`# 412: ...`) is the answer it must get; otherwise it must get no 4xx/5xx.
A comment shaped like a header (`# ETag: "2"`) must appear in its output.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from . import pg
from .servers import free_port, server

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.DOTALL | re.MULTILINE)
STATUS_CLAIM = re.compile(r"(\d{3})\b")
HEADER_CLAIM = re.compile(r"([A-Za-z][A-Za-z-]*: .+)")
# Each curl call also writes its status to stderr; stdout (and so any pipe) is untouched.
CURL_STATUS = "curl() { command curl -w '%{stderr}HTTP %{http_code}\\n' \"$@\"; }\n"


def split_comment(line: str) -> tuple[str, str]:
    """(command, comment): the comment starts at a `#` after a space, outside quotes."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].strip(), line[i + 1 :].strip()
    return line.strip(), ""


def commands(block: str) -> list[tuple[str, str]]:
    """A block's commands with their comments; continuation lines are joined."""
    lines = block.replace("\\\n", " ").splitlines()
    return [split_comment(line) for line in lines if split_comment(line)[0]]


def curl_blocks() -> list[list[tuple[str, str]]]:
    blocks = [commands(block) for block in BLOCK.findall(README.read_text())]
    runnable = []
    for block in blocks:
        curls = [command.startswith("curl ") for command, _ in block]
        assert all(curls) or not any(curls), (
            f"a README block mixes curl and other commands: {block}"
        )
        if all(curls):
            runnable.append(block)
    return runnable


def run(command: str, comment: str, port: int) -> None:
    local = command.replace("localhost:8000", f"127.0.0.1:{port}")
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", CURL_STATUS + local],
        capture_output=True,
        text=True,
        timeout=60,
    )
    said = f"{command}\n--- stdout:\n{result.stdout}\n--- stderr:\n{result.stderr}"
    assert result.returncode == 0, said
    statuses = [int(s) for s in re.findall(r"^HTTP (\d{3})$", result.stderr, re.MULTILINE)]
    assert statuses, said
    claim = STATUS_CLAIM.match(comment)
    if claim:
        assert statuses == [int(claim.group(1))], said
    else:
        assert all(status < 400 for status in statuses), said
    header = HEADER_CLAIM.fullmatch(comment)
    if header:
        assert header.group(1).lower() in result.stdout.lower(), said


def test_the_readme_curl_examples_run_in_order_on_a_fresh_server(pg_server: str) -> None:
    blocks = curl_blocks()
    assert len(blocks) >= 3  # the rule still finds the API examples
    with pg.scratch_database(pg_server, "readme") as url:
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "PORT": str(port)}
        with server(["serve"], env):
            for block in blocks:
                for command, comment in block:
                    run(command, comment, port)


def test_the_rule_reads_comments_and_quotes() -> None:
    assert split_comment("""curl -d '{"t": "#1"}' x  # 412: it moved""") == (
        """curl -d '{"t": "#1"}' x""",
        "412: it moved",
    )
    assert commands('curl a \\\n  -d b   # ETag: "2"\n\n') == [("curl a    -d b", 'ETag: "2"')]
