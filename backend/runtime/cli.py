"""The `todoapp` command: serve, db (Alembic), seed, users, loadtest."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import sys
import tempfile
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ..edge import requestid
from .config import Settings

log = logging.getLogger("todoapp")


def resolve_database(settings: Settings) -> Settings:
    """Use DATABASE_URL, or start the embedded server; export the result for child processes."""
    if settings.database_url is None:
        from . import embedded

        settings = replace(settings, database_url=embedded.start(settings.data_dir))
    os.environ["DATABASE_URL"] = settings.database_url or ""
    return settings


def serve(args: argparse.Namespace) -> int:
    from . import migrate, servers

    settings = Settings.from_env()
    settings = replace(
        settings,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.workers,
    )
    refuse_remote_without_accounts(settings)
    # Before anything is started or migrated: a server that cannot own its port stops here.
    servers.ensure_port_free(settings.host, settings.port)
    settings = resolve_database(settings)
    # Once, before any worker starts (not in a per-worker startup hook).
    migrate.upgrade(settings.database_url or "")
    os.environ.update(HOST=settings.host, PORT=str(settings.port))
    if settings.workers == 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return servers.run(settings)
    # Set before any worker imports prometheus_client: /metrics then sums all workers. The
    # samples are worth nothing once the server is gone.
    with tempfile.TemporaryDirectory(prefix="todoapp-metrics-") as samples:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = samples
        return servers.run(settings)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may well be reachable from elsewhere


def refuse_remote_without_accounts(settings: Settings) -> None:
    """AUTH=off gives every request the run of every todo: only on this machine, unless
    AUTH_OFF_ALLOW_REMOTE=1 says the network in between is trusted."""
    remote = not is_loopback(settings.host)
    if settings.auth == "off" and remote and not settings.auth_off_allow_remote:
        raise SystemExit(
            f"todoapp: refusing to serve {settings.host} with AUTH=off (no accounts: anyone "
            "who can reach it can read and change every todo); use AUTH=on, bind "
            "127.0.0.1, or set AUTH_OFF_ALLOW_REMOTE=1"
        )


def db(alembic_args: list[str]) -> int:
    """`todoapp db ARGS...`: Alembic's own command line. Its arguments are read before the
    database starts, so `todoapp db`, `-h` and bad arguments answer at once."""
    from . import migrate

    options = migrate.parse_cli(alembic_args)  # exits on -h / --help and on errors
    if options is None:
        return 2  # no command: Alembic's usage was printed
    settings = resolve_database(Settings.from_env())
    return migrate.run_cli(options, settings.database_url or "")


def seed(args: argparse.Namespace) -> int:
    from . import migrate
    from .seed import seed as run_seed

    settings = resolve_database(Settings.from_env())
    migrate.upgrade(settings.database_url or "")
    owner = 0
    if args.user:
        from . import users

        owner = asyncio.run(users.user_id(settings, args.user))
    created = asyncio.run(run_seed(settings, owner))
    print(f"seeded: {created} new lists" if created else "seed data already present")
    return 0


def users_(args: argparse.Namespace) -> int:
    from . import migrate, users

    settings = resolve_database(Settings.from_env())
    migrate.upgrade(settings.database_url or "")
    try:
        print(users.ACTIONS[args.action](settings, args))
    except users.Refused as refused:
        print(f"todoapp users {args.action}: {refused}", file=sys.stderr)
        return 1
    return 0


def loadtest(args: argparse.Namespace) -> int:
    from todoapp_tools import loadtest as lt

    return lt.main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="todoapp", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("serve", help="migrate, then serve the API and the web app")
    p.add_argument("--host", help="address to bind (HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (PORT, default 8000)")
    p.add_argument("--workers", type=int, help="worker processes (WORKERS, default 1)")
    p.set_defaults(func=serve)

    # Listed for `todoapp -h`; main() hands its arguments to Alembic's parser untouched.
    commands.add_parser(
        "db",
        help="Alembic against the app's database, e.g. `todoapp db upgrade head` (-h: its help)",
        add_help=False,
    )

    p = commands.add_parser("seed", help="load a few example lists and todos (idempotent)")
    p.add_argument("--user", help="for this account (default: the implicit user of AUTH=off)")
    p.set_defaults(func=seed)

    _add_users_parser(commands)

    p = commands.add_parser(
        "loadtest", help="mixed load against a running server, then verify what it acknowledged"
    )
    p.add_argument("--url", default="http://127.0.0.1:8000", help="server base URL")
    p.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    p.add_argument("--duration", type=float, default=10, help="seconds of load (default 10)")
    p.add_argument("--seed", type=int, help="random seed for a repeatable request mix")
    p.add_argument("--keep", action="store_true", help="keep the run's list afterwards")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--token",
        default=os.environ.get("TODOAPP_TOKEN"),
        help="access token to send (AUTH=on; default: TODOAPP_TOKEN)",
    )
    p.set_defaults(func=loadtest)
    return parser


def _add_users_parser(commands: Any) -> None:
    p = commands.add_parser("users", help="accounts: create, list, set-password, delete, claim")
    actions = p.add_subparsers(dest="action", required=True)
    for name, help_ in (
        ("create", "a new account (password from the terminal, or stdin's first line)"),
        ("set-password", "a new password for an account (ends its sessions)"),
        ("delete", "an account with its lists, todos, sessions and tokens"),
        ("claim", "give the lists of AUTH=off's implicit user to an account"),
    ):
        a = actions.add_parser(name, help=help_)
        a.add_argument("username")
        if name == "delete":
            a.add_argument("--yes", action="store_true", help="do not ask first")
    actions.add_parser("list", help="every account with its lists, sessions and tokens")
    p.set_defaults(func=users_)


def _version() -> str:
    try:
        return version("todoapp")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["db"]:
        # Not through argparse: it cannot pass `-h` or `--sql` on to a REMAINDER argument.
        _configure_logging()
        return db(argv[1:])
    args = build_parser().parse_args(argv)
    _configure_logging()
    return args.func(args)


def _configure_logging() -> None:
    settings = Settings.from_env()
    requestid.configure_logging(settings.log_level, settings.log_format)


if __name__ == "__main__":
    raise SystemExit(main())
