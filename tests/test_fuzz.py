"""Hostile requests, generated (hypothesis): for every route and every part of a request to
it (each body field, query parameter, header that it reads, the id in its path, the whole
body, the method), a valid request with that part replaced by NULs, huge and odd integers,
other scripts' digits, invisible characters, crafted page cursors or plain garbage. No answer
may be a 5xx, and afterwards the server's pooled connections must still work (issue 9: a bad
request once broke them for good).

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
from backend.domain.schemas import (
    MAX_ORDER,
    ListCreate,
    ListUpdate,
    Page,
    TodoBulkUpdate,
    TodoCreate,
    TodoFilter,
    TodoQuery,
    TodoUpdate,
)
from backend.runtime.config import Settings

from . import pg
from .servers import free_port, server

# Per part of each route (85 of them): 340 requests, a few seconds on two slow cores;
# derandomized, so CI sends the same ones every time.
EXAMPLES_PER_PART = 4
TIMEOUT_MS = 1000  # a short statement_timeout, so a poisoned connection shows soon

# --- what to send --------------------------------------------------------------------------
# A request is a valid one with ONE of its parts made hostile: wholly random requests stop at
# the first validation error and never reach the code behind it.


def routes() -> list[tuple[str, str]]:
    """(method, URL rule) of every route the app serves, from its own URL map."""
    app = create_app(Settings(database_url="postgresql://unused@127.0.0.1:1/unused"))
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/healthz", "/readyz")):
            found += [(m, rule.rule) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


# What a route reads, besides its path: (body model, query model), as the routes declare.
SHAPES: dict[tuple[str, str], tuple[Any, Any]] = {
    ("GET", "/api/todos"): (None, TodoQuery),
    ("POST", "/api/todos"): (TodoCreate, None),
    ("PATCH", "/api/todos"): (TodoBulkUpdate, TodoFilter),
    ("DELETE", "/api/todos"): (None, TodoFilter),
    ("PATCH", "/api/todos/<id:todo_id>"): (TodoUpdate, None),
    ("GET", "/api/lists"): (None, Page),
    ("POST", "/api/lists"): (ListCreate, None),
    ("PATCH", "/api/lists/<id:list_id>"): (ListUpdate, None),
}
# The methods each header means something to (any header may come, valid, with any method).
HEADER_USE = {
    "If-Match": ("PATCH", "DELETE"),
    "If-None-Match": ("GET",),
    "Idempotency-Key": ("POST",),
    "X-Request-ID": ("GET", "POST", "PATCH", "DELETE"),
    "Content-Type": ("POST", "PATCH"),
}


def parts(method: str, rule: str) -> list[str]:
    """The parts of a request to this route that can be made hostile, one at a time."""
    body, query = SHAPES.get((method, rule), (None, None))
    found = [f"field {f}" for f in (body.model_fields if body else ())]
    found += [f"param {p}" for p in (query.model_fields if query else ())]
    found += [f"header {h}" for h, methods in HEADER_USE.items() if method in methods]
    found += ["id"] if "<" in rule else []
    return found + (["body", "method"] if body else ["method"])


ROUTE_PARTS = [(method, rule, part) for method, rule in routes() for part in parts(method, rule)]
SORTS = [
    "order",
    "-order",
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "due",
    "-due",
    "id",
]

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
    "x" * 501,
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
]
# The nastiest first: hypothesis starts from the simplest choices, the first of a list.
HOSTILE_INTS = [
    *(2**63, 2**31, 10**30, -(2**63) - 1, -(2**31) - 1, 2**64, 2**63 - 1, 2**31 - 1),
    *(0, -1, 1, 2, MAX_ORDER, MAX_ORDER + 1),
]

texts = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=20),
    st.text(st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Nd", "No"]), max_size=8),
)
integers = st.one_of(st.sampled_from(HOSTILE_INTS), st.sampled_from(HOSTILE_INTS), st.integers())
scalars = st.one_of(texts, integers, st.booleans(), st.none(), st.floats(allow_nan=False))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def cursor_of(parts: Any) -> str:
    # json, not orjson: it writes integers past 64 bits as they are.
    return b64(json.dumps(parts).encode())


def cursors(sort: str) -> st.SearchStrategy[str]:
    """Page cursors for a page in this sort: [sort, key, id] with hostile parts (mostly), or
    another sort's, or anything else in base64, or not base64 at all."""
    return st.one_of(
        st.tuples(st.just(sort), integers, integers).map(cursor_of),
        st.tuples(st.just(sort), integers, integers).map(cursor_of),
        st.tuples(st.just(sort), scalars, integers | scalars).map(cursor_of),
        st.tuples(st.sampled_from(SORTS), scalars, scalars).map(cursor_of),
        json_values.map(cursor_of),
        st.binary(max_size=30).map(b64),
        texts,
    )


numbers = st.one_of(integers, integers.map(str), st.booleans(), st.floats(allow_nan=False))

# Each part of a request: (what a valid request sends, what a hostile one may send instead).
FIELDS = {
    "title": (st.sampled_from(["milk", " eggs ", "bread 2"]), texts),
    "name": (st.text("abcdefgh", min_size=1, max_size=8), texts),
    "completed": (st.booleans(), json_values),
    "order": (st.integers(1, 5), numbers),
    "list_id": (st.sampled_from([1, 2]), numbers),
    "due": (st.sampled_from(["2031-02-28", "2030-01-01"]), texts | numbers),
    "notes": (st.sampled_from(["a note", ""]), texts),
    "ids": (st.lists(st.sampled_from([1, 2]), min_size=1, max_size=3), json_values),
}
PARAMS = {
    "list_id": (st.sampled_from(["1", "2"]), texts | integers.map(str)),
    "completed": (st.sampled_from(["true", "false"]), texts),
    "q": (st.sampled_from(["milk", '"bread 2" or -eggs', "gro"]), texts),
    "sort": (st.sampled_from(SORTS[:-1]), texts),
    "limit": (st.sampled_from(["1", "2", "1000"]), texts | integers.map(str)),
    "cursor": (st.just(cursor_of(["order", 1, 1])), st.nothing()),  # see hostile_requests
    "count": (st.just("true"), texts),
    "due_before": (st.sampled_from(["2030-01-01", "1999-12-31"]), texts),
    "due_after": (st.sampled_from(["2000-02-29", "2030-01-01"]), texts),
    "overdue": (st.sampled_from(["true", "false"]), texts),
    "tz": (st.sampled_from(["UTC", "Europe/Paris", "Pacific/Kiritimati"]), texts),
}
entity_tags = st.one_of(
    integers.map(lambda v: f'"{v}"'),
    texts.map(lambda v: f'"{v}"'),
    st.lists(integers.map(lambda v: f'"{v}"'), min_size=1, max_size=4).map(", ".join),
    st.sampled_from(['W/"1"', '"', "1"]),
    texts,
)
HEADERS = {
    "If-Match": (st.sampled_from(['"1"', '"2"', '"1-0-0"', "*"]), entity_tags),
    "If-None-Match": (st.sampled_from(['"1"', "*"]), entity_tags),
    # No valid key: the few that hypothesis would draw repeat, and a repeat is a replay.
    "Idempotency-Key": (st.none(), texts | st.binary(max_size=300).map(bytes.hex)),
    "X-Request-ID": (st.just("fuzz-1"), texts),
    "Content-Type": (st.just("application/json"), st.sampled_from(["text/plain", "a/b; x"])),
}
IDS = (st.sampled_from(["1", "2"]), texts | st.integers(min_value=-1).map(str))
hostile_bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=40), st.none()
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


@st.composite
def hostile_requests(draw: st.DrawFn, method: str, rule: str, hostile: str) -> dict[str, Any]:
    """A valid request to this route, with the part named `hostile` made hostile."""
    body_model, query_model = SHAPES.get((method, rule), (None, None))
    fields = list(body_model.model_fields) if body_model else []
    params = list(query_model.model_fields) if query_model else []

    def part(name: str, choices: tuple[Any, Any], optional: bool = True) -> Any:
        """The hostile value for the hostile part, else (maybe) a valid one."""
        if name == hostile:
            return draw(choices[1])
        return draw(choices[0]) if not optional or draw(st.booleans()) else None

    path = re.sub(r"<[^>]+>", lambda _: quote(part("id", IDS, False), safe=""), rule)
    query = {p: part(f"param {p}", PARAMS[p]) for p in params if p != "cursor"}
    if "cursor" in params:  # a hostile cursor is made for the sort the page is in
        default = "id" if rule == "/api/lists" else "order"
        sort = query.get("sort") if query.get("sort") in SORTS else default
        query["cursor"] = part("param cursor", (PARAMS["cursor"][0], cursors(sort)))
    head = {h: part(f"header {h}", HEADERS[h], h != "Content-Type") for h in HEADERS}
    head = {h: header_bytes(v) for h, v in head.items() if v is not None}
    # What a valid body must have: a title or name to create, `completed` to toggle all.
    required = {"title", "name"} if method == "POST" else {"completed"}
    body: Any = {f: part(f"field {f}", FIELDS[f], optional=f not in required) for f in fields}
    body = {f: v for f, v in body.items() if v is not None}
    if method == "POST" and "title" in fields and draw(st.booleans()):
        body = [{"title": "first of many"}, body]  # a bulk create
    return {
        "method": "PUT" if hostile == "method" else method,
        "url": path,
        "params": {p: v for p, v in query.items() if v is not None},
        "headers": {h: v for h, v in head.items() if FIELD_VALUE.fullmatch(v)},
        # json, not orjson: it writes integers past 64 bits and lone surrogates as sent.
        "content": draw(hostile_bodies) if hostile == "body" else json.dumps(body).encode(),
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
            "AUTH": "off",  # hostile input, not sign-in: every request is the implicit user's
        }
        with server(["serve"], env) as proc:
            yield f"http://127.0.0.1:{port}", url
            print("".join(proc.log[-200:]))  # on a failure, the server's side of the story


class Database:
    """A direct line to the server's database, for the test's own bookkeeping."""

    # What requests aim at: lists 1 and 2, each with a todo (ids 1 and 2); put back before
    # each request, as the fuzz deletes and moves them (at far positions, where nothing else
    # is: positions are unique per list, deferrably, so ON CONFLICT cannot guard them).
    RESTORE = """
        INSERT INTO todo_lists (id, name, owner_id) VALUES (1, 'Inbox', 0), (2, 'Other', 0)
            ON CONFLICT DO NOTHING;
        INSERT INTO todos (id, list_id, title, position)
            SELECT * FROM (VALUES (1, 1, 'milk', 1000000001), (2, 2, 'eggs', 1000000002))
                AS v (id, list_id, title, position)
            WHERE EXISTS (SELECT FROM todo_lists l WHERE l.id = v.list_id)
            AND NOT EXISTS (
                SELECT FROM todos t
                WHERE t.id = v.id OR (t.list_id = v.list_id AND t.position = v.position)
            );
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.loop = asyncio.new_event_loop()
        self.conn: asyncpg.Connection = self.loop.run_until_complete(asyncpg.connect(pg.plain(url)))

    def restore_targets(self) -> None:
        self.loop.run_until_complete(self.conn.execute(self.RESTORE))

    def statement_timers_ran_out(self) -> bool:
        """No connection of the app has a statement open for less than the timeout: one the
        driver abandoned has had its chance to poison its connection (see
        test_poisoned_connections.py)."""
        young = pg.app_statements_younger_than(self.url, (TIMEOUT_MS + 300) / 1000)
        return self.loop.run_until_complete(young) == 0

    def close(self) -> None:
        self.loop.run_until_complete(self.conn.close())
        self.loop.close()


def test_hostile_requests_get_no_5xx_and_leave_the_pool_healthy(
    api_url: tuple[str, str],
) -> None:
    base_url, database_url = api_url
    database = Database(database_url)
    statuses: Counter[int] = Counter()
    with httpx.Client(base_url=base_url, timeout=30) as client:
        # Made through the API, so that the id sequences are past them.
        assert client.post("/api/lists", json={"name": "Other"}).json()["id"] == 2
        made = client.post("/api/todos", json=[{"title": "milk"}, {"title": "eggs", "list_id": 2}])
        assert [todo["id"] for todo in made.json()] == [1, 2]

        @settings(
            max_examples=EXAMPLES_PER_PART,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(data=st.data())
        def no_server_error(method: str, rule: str, part: str, data: st.DataObject) -> None:
            request = data.draw(hostile_requests(method, rule, part))
            database.restore_targets()
            with client.stream(**request) as response:
                # An event stream (GET /api/events) never ends: its head is its answer.
                if not response.headers.get("content-type", "").startswith("text/event-stream"):
                    response.read()
            statuses[response.status_code] += 1
            text = response.text if response.is_stream_consumed else ""
            assert response.status_code < 500, (part, request, text[:500])
            assert "Traceback" not in text

        try:
            for method, rule, part in ROUTE_PARTS:
                no_server_error(method, rule, part)
            print(
                f"\n{sum(statuses.values())} hostile requests; statuses: {sorted(statuses.items())}"
            )
            # They reached the handlers and the database, not only the front door.
            assert {200, 201, 204, 404, 412, 422} <= set(statuses)

            polls = 1000  # each a round trip: seconds, far past the timeout
            while not database.statement_timers_ran_out():
                polls -= 1
                assert polls, "a statement stayed open"
        finally:
            database.close()
        for i in range(10):  # transactions and single statements, on every pooled connection
            created = client.post("/api/lists", json={"name": f"after the storm {i}"})
            assert created.status_code == 201, created.text
            listed = client.get("/api/todos", params={"list_id": created.json()["id"]})
            assert listed.status_code == 200, listed.text
        assert client.get("/readyz").status_code == 200
