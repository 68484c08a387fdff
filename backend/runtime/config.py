"""Settings, read once from the environment (documented in the README's config table)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import platformdirs

EVENTS_PACE_MAX = 5.0  # seconds: longer, and a busy list would no longer look live


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _float_within(name: str, default: float, low: float, high: float) -> float:
    """A float setting that must lie in [low, high] (NaN does not): a value in the wrong
    unit (milliseconds for seconds) stops the start instead of stalling every stream."""
    value = _float(name, default)
    if not low <= value <= high:
        raise SystemExit(f"{name} must be between {low:g} and {high:g} (got {value:g})")
    return value


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default).strip().lower()
    if value not in choices:
        raise SystemExit(f"{name} must be one of {', '.join(choices)} (got {value!r})")
    return value


def log_format() -> str:
    value = os.environ.get("LOG_FORMAT", "text").strip().lower() or "text"
    if value not in ("text", "json"):
        raise ValueError(f"LOG_FORMAT must be text or json, not {value!r}")
    return value


def _list(name: str) -> tuple[str, ...]:
    """A comma-separated setting: 'a, b' -> ('a', 'b')."""
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


def public_origin(url: str) -> str:
    """PUBLIC_URL as scheme://host[:port]; anything with a path, query or credentials is a
    mistake worth stopping for (the app is served at the root of its origin)."""
    if not url:
        return ""
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise ValueError(f"PUBLIC_URL must be an origin like https://todo.example.com: {url!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def default_data_dir() -> Path:
    # A per-user folder that survives restarts (e.g. ~/.local/share/todoapp on Linux).
    return platformdirs.user_data_path("todoapp")


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    cors_origins: tuple[str, ...] = ()
    data_dir: Path = field(default_factory=default_data_dir)
    db_pool_size: int = 10
    db_pool_timeout: float = 2.0
    db_connect_timeout: float = 3.0
    db_statement_timeout_ms: int = 10_000
    log_level: str = "INFO"
    log_format: str = "text"  # or "json": one object per line
    # Backpressure, per worker process; 0 turns a limit off.
    max_in_flight: int = 256
    request_timeout: float = 30.0
    server: str = "granian"
    # Accounts (README, "Accounts"): "on", or "off" for one implicit user who owns everything.
    auth: str = "on"
    signup: str = "open"  # "closed": only `todoapp users create` makes accounts
    cookie_secure: bool = False  # Secure session cookies over plain HTTP too (behind TLS)
    metrics_token: str | None = None  # bearer token for /metrics; unset: loopback only
    auth_off_allow_remote: bool = False  # AUTH=off on a non-loopback address, knowingly
    # Slow uploads: seconds for a whole request body, and bodies arriving at once per address.
    body_timeout: float = 10.0
    max_uploads_per_client: int = 8
    # Host names, the public origin and trusted proxies (edge/hosts.py); () = the defaults.
    allowed_hosts: tuple[str, ...] = ()
    public_url: str = ""
    forwarded_allow_ips: tuple[str, ...] = ()
    # The live feed (GET /api/events), per worker process.
    events_retention: float = 24 * 3600.0  # seconds an event is kept
    events_heartbeat: float = 15.0  # seconds between keep-alive comments on idle streams
    events_queue: int = 1000  # events a stream may fall behind before it is reset
    # Seconds a busy feed gathers changes between two hand-outs at 1,000 open streams or
    # more (fewer streams: proportionally less). Longer: less CPU per change, later events.
    events_pace: float = 0.1  # at most EVENTS_PACE_MAX
    max_streams: int = 2000  # open event streams; more get 503 + Retry-After

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=database_url_from_env(),
            host=os.environ.get("HOST", cls.host),
            port=_int("PORT", cls.port),
            workers=_int("WORKERS", cls.workers),
            cors_origins=_list("CORS_ORIGINS"),
            data_dir=Path(os.environ.get("TODOAPP_DATA_DIR") or default_data_dir()),
            db_pool_size=_int("DB_POOL_SIZE", cls.db_pool_size),
            db_pool_timeout=_float("DB_POOL_TIMEOUT", cls.db_pool_timeout),
            db_connect_timeout=_float("DB_CONNECT_TIMEOUT", cls.db_connect_timeout),
            db_statement_timeout_ms=_int("DB_STATEMENT_TIMEOUT_MS", cls.db_statement_timeout_ms),
            log_level=os.environ.get("LOG_LEVEL", cls.log_level).upper(),
            log_format=log_format(),
            max_in_flight=_int("MAX_IN_FLIGHT", cls.max_in_flight),
            request_timeout=_float("REQUEST_TIMEOUT", cls.request_timeout),
            server=os.environ.get("SERVER", cls.server).lower(),
            auth=_choice("AUTH", cls.auth, ("on", "off")),
            signup=_choice("SIGNUP", cls.signup, ("open", "closed")),
            cookie_secure=_flag("COOKIE_SECURE"),
            metrics_token=os.environ.get("METRICS_TOKEN") or None,
            auth_off_allow_remote=_flag("AUTH_OFF_ALLOW_REMOTE"),
            body_timeout=_float("BODY_TIMEOUT", cls.body_timeout),
            max_uploads_per_client=_int("MAX_UPLOADS_PER_CLIENT", cls.max_uploads_per_client),
            allowed_hosts=_list("ALLOWED_HOSTS"),
            public_url=public_origin(os.environ.get("PUBLIC_URL", "")),
            forwarded_allow_ips=_list("FORWARDED_ALLOW_IPS"),
            events_retention=_float("EVENTS_RETENTION", cls.events_retention),
            events_heartbeat=_float("EVENTS_HEARTBEAT", cls.events_heartbeat),
            events_queue=_int("EVENTS_QUEUE", cls.events_queue),
            events_pace=_float_within("EVENTS_PACE", cls.events_pace, 0, EVENTS_PACE_MAX),
            max_streams=_int("MAX_STREAMS", cls.max_streams),
        )

    @property
    def accounts(self) -> bool:
        return self.auth == "on"


def database_url_from_env() -> str | None:
    """DATABASE_URL, with the password of DATABASE_PASSWORD or DATABASE_PASSWORD_FILE put in
    (percent-escaped), so a password with `@ : / # %` needs no escaping by hand."""
    url = os.environ.get("DATABASE_URL") or None
    password = os.environ.get("DATABASE_PASSWORD")
    if os.environ.get("DATABASE_PASSWORD_FILE"):
        # A secrets file (Docker, Kubernetes): one line; its newline is not the password's.
        password = Path(os.environ["DATABASE_PASSWORD_FILE"]).read_text().rstrip("\r\n")
    if url is None or not password:
        return url
    return with_password(url, password)


def with_password(url: str, password: str) -> str:
    """url with its password replaced by password, escaped for the userinfo part."""
    parts = urlsplit(url)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{hostport}"))


def asyncpg_url(url: str) -> str:
    """Accept postgres://, postgresql:// or postgresql+asyncpg:// and return the asyncpg form."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith("postgres"):
        raise ValueError("DATABASE_URL must look like postgresql://user:password@host/dbname")
    return "postgresql+asyncpg://" + rest
