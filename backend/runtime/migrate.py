"""Alembic, driven from Python: the `todoapp db` command and the migration at server start."""

from __future__ import annotations

import os
from argparse import Namespace
from functools import cache
from pathlib import Path

from alembic.config import CommandLine, Config
from alembic.script import ScriptDirectory

from .config import asyncpg_url

# The advisory lock env.py holds while migrating. Any constant will do; it only has to be
# the same for every todoapp process.
MIGRATION_LOCK_KEY = 0x70D0A9


def alembic_ini() -> Path:
    """alembic.ini of the checkout (or the image's /app): next to the package, else the cwd."""
    for folder in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (folder / "alembic.ini").is_file():
            return folder / "alembic.ini"
    raise FileNotFoundError("alembic.ini not found next to the backend package or in the cwd")


def alembic_config(database_url: str | None = None) -> Config:
    ini = alembic_ini()
    config = Config(str(ini))
    # The app has configured logging already; alembic.ini's logging is for the plain CLI.
    config.attributes["configure_logger"] = False
    config.set_main_option("script_location", str(ini.parent / "migrations"))
    if database_url:
        # '%' would be taken for ConfigParser interpolation.
        config.set_main_option("sqlalchemy.url", asyncpg_url(database_url).replace("%", "%%"))
    return config


@cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(database_url: str, revision: str = "head") -> None:
    """Run pending migrations (env.py serialises concurrent runs with an advisory lock)."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


CLI = CommandLine(prog="todoapp db")


def parse_cli(argv: list[str]) -> Namespace | None:
    """Alembic's arguments (it exits on -h and on errors); None, after printing its usage,
    when no command is given."""
    options = CLI.parser.parse_args(argv)
    if not hasattr(options, "cmd"):
        CLI.parser.print_help()
        return None
    return options


def run_cli(options: Namespace, database_url: str) -> int:
    """`todoapp db ARGS...` is `alembic ARGS...` against the resolved database."""
    os.environ["DATABASE_URL"] = database_url
    config = alembic_config(database_url)
    config.cmd_opts = options
    CLI.run_cmd(config, options)
    return 0
