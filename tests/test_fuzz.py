"""Hostile requests, generated (hypothesis): every route, with NULs, huge and odd integers,
other scripts' digits, invisible characters, crafted page cursors and odd headers in its path,
query, headers and body. No answer may be a 5xx, and afterwards the server's pooled
connections must still work (issue 9: a bad request once broke them for good).

test_schemathesis.py checks the API against its OpenAPI document with schema-shaped data;
this one goes where the document does not lead: values past every column's range, and
texts that are valid JSON but not valid for PostgreSQL.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend import create_app
from backend.domain.schemas import MAX_ORDER, ListCreate, TodoCreate, TodoQuery
from backend.runtime.config import Settings

from . import pg
from .servers import free_port, server

EXAMPLES = 300  # a few seconds on two slow cores; derandomized, so the same ones in CI
TIMEOUT_MS = 1000  # a short statement_timeout, so a poisoned connection shows soon

# --- what to send --------------------------------------------------------------------------


def routes() -> list[tuple[str, str]]:
    """(method, URL rule) of every route the app serves, from its own URL map."""
    app = create_app(Settings(database_url="postgresql://unused@127.0.0.1:1/unused"))
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/healthz", "/readyz")):
            found += [(m, rule.rule) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


ROUTES = routes()
FIELDS = sorted({*TodoCreate.model_fields, *ListCreate.model_fields})
PARAMS = sorted(TodoQuery.model_fields)
SORTS = ["order", "-order", "created_at", "-created_at", "updated_at", "-updated_at", "id"]

HOSTILE_TEXT = [
    "\x00",
    "milk\x00",
    "\u200b",
    "\u3164",
    "\u2800",
    "\x01\x7f",
    "\u2060\ufe0f",
    "\ufeff",
    "\u00b2",  # "²": str.isdigit() is True
    "\u0662\u0666",  # Arabic-Indic 26
    "\uff12\uff16",  # full-width 26
    "01",
    "+1",
    " 1",
    "1_0",
    "-1",
    "0",
    "1.0",
    "1e3",
    "9" * 20,
    "9" * 5000,
    str(2**31),
    str(2**63 - 1),
    str(2**63),
    "true",
    "null",
    "' OR 1=1 --",
    '"',
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
]
HOSTILE_INTS = [
    *(0, -1, 1, 2, MAX_ORDER, MAX_ORDER + 1),
    *(2**31 - 1, 2**31, -(2**31) - 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30),
]

texts = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=20),
    st.text(st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Nd", "No"]), max_size=8),
)
integers = st.one_of(st.sampled_from(HOSTILE_INTS), st.integers())
scalars = st.one_of(texts, integers, st.booleans(), st.none(), st.floats(allow_nan=False))
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
objects = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# Page cursors: [sort, key, id] with hostile parts, or anything else in base64, or not base64.
cursors = st.one_of(
    st.tuples(st.sampled_from(SORTS), scalars, scalars).map(lambda t: b64(json.dumps(t).encode())),
    json_values.map(lambda v: b64(json.dumps(v).encode())),
    st.binary(max_size=30).map(b64),
    texts,
)


def query_value(name: str) -> st.SearchStrategy[str]:
    if name == "cursor":
        return cursors
    if name == "sort":
        return st.sampled_from(SORTS) | texts
    return texts | integers.map(str)


queries = st.lists(
    st.sampled_from([*PARAMS, "unknown"]).flatmap(
        lambda name: st.tuples(st.just(name), query_value(name))
    ),
    max_size=3,
)

# Header values go out as bytes (the server reads them as Latin-1); h11, the client, sends
# only what HTTP allows (no controls), so those are what we can try.
VCHAR = rb"[\x21-\x7e\x80-\xff]"
FIELD_VALUE = re.compile(VCHAR + rb"([\x20\x09\x21-\x7e\x80-\xff]*" + VCHAR + rb")?")


def header_bytes(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode()


entity_tags = st.one_of(
    (texts | integers.map(str)).map(lambda v: f'"{v}"'),
    st.lists(integers.map(lambda v: f'"{v}"'), min_size=1, max_size=4).map(", ".join),
    st.sampled_from(["*", 'W/"1"', '"1-0-0"', '"', "1"]),
    texts,
)
header_values = {
    "If-Match": entity_tags,
    "If-None-Match": entity_tags,
    "Idempotency-Key": texts | st.binary(min_size=1, max_size=300).map(bytes.hex),
    "X-Request-ID": texts,
    "Content-Type": st.sampled_from(["application/json", "text/plain", "application/json; x"]),
}
headers = st.fixed_dictionaries(
    {}, optional={name: s.map(header_bytes) for name, s in header_values.items()}
).map(lambda h: {k: v for k, v in h.items() if FIELD_VALUE.fullmatch(v)})

ids = st.one_of(
    st.sampled_from(["1", "2", *HOSTILE_TEXT]),
    st.integers(min_value=-1).map(str),
    st.text(max_size=5),
)


def body_bytes(value: Any) -> bytes:
    # json, not orjson: it writes integers past 64 bits and lone surrogates as sent.
    return json.dumps(value).encode()


bodies = st.one_of(
    st.none(),
    objects.map(body_bytes),
    st.lists(objects, max_size=4).map(body_bytes),
    json_values.map(body_bytes),
    st.binary(max_size=40),
)


@st.composite
def hostile_requests(draw: st.DrawFn) -> dict[str, Any]:
    method, rule = draw(st.sampled_from(ROUTES))
    path = re.sub(r"<[^>]+>", lambda _: quote(draw(ids), safe=""), rule)
    return {
        "method": draw(st.sampled_from([method, method, method, "PUT"])),
        "url": path,
        "params": draw(queries),
        "headers": draw(headers),
        "content": draw(bodies),
    }


# --- the server --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api_url(pg_server: str) -> Iterator[tuple[str, str]]:
    """`todoapp serve` (granian, as in production) with a small pool, so that the checks
    afterwards meet every pooled connection; yields its URL and its database's."""
    with pg.scratch_database(pg_server, "hostile") as url:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "PORT": str(port),
            "DB_POOL_SIZE": "2",
            "DB_STATEMENT_TIMEOUT_MS": str(TIMEOUT_MS),
        }
        with server(["serve"], env) as proc:
            yield f"http://127.0.0.1:{port}", url
            print("".join(proc.log[-200:]))  # on a failure, the server's side of the story


def statement_timers_ran_out(url: str) -> bool:
    """No connection of the app has a statement open for less than the timeout: a statement
    the driver abandoned has had its chance to poison its connection (see
    test_poisoned_connections.py)."""

    async def young() -> int:
        conn = await asyncpg.connect(pg.plain(url))
        try:
            return await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = 'todoapp' AND datname = current_database()"
                " AND state <> 'idle'"
                " AND clock_timestamp() - query_start < make_interval(secs => $1)",
                (TIMEOUT_MS + 300) / 1000,
            )
        finally:
            await conn.close()

    return asyncio.run(young()) == 0


def test_hostile_requests_get_no_5xx_and_leave_the_pool_healthy(
    api_url: tuple[str, str],
) -> None:
    base_url, database_url = api_url
    statuses: Counter[int] = Counter()
    with httpx.Client(base_url=base_url, timeout=30) as client:
        client.post("/api/todos", json={"title": "a todo to aim at"})

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(request=hostile_requests())
        def no_server_error(request: dict[str, Any]) -> None:
            response = client.request(**request)
            statuses[response.status_code] += 1
            assert response.status_code < 500, (request, response.text[:500])
            assert "Traceback" not in response.text

        no_server_error()
        print(f"\n{sum(statuses.values())} hostile requests, by status: {sorted(statuses.items())}")
        # The requests reached the handlers, not only the front door.
        assert {200, 201, 404, 412, 422} <= set(statuses)

        deadline = 1000  # polls, each a round trip: seconds, far past the timeout
        while not statement_timers_ran_out(database_url):
            deadline -= 1
            assert deadline, "a statement stayed open"
        for i in range(10):  # transactions and single statements, on every pooled connection
            created = client.post("/api/lists", json={"name": f"after the storm {i}"})
            assert created.status_code == 201, created.text
            listed = client.get("/api/todos", params={"list_id": created.json()["id"]})
            assert listed.status_code == 200, listed.text
        assert client.get("/readyz").status_code == 200
