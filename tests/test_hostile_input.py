"""Input a client can send at will is answered as the client's fault (4xx problem+json), never
with a 500, and never reaches the database driver out of range (issue 9, item 2)."""

from __future__ import annotations

import base64

import httpx
import orjson
import pytest

from .test_errors import assert_problem

NUL = "\u0000"
# Texts that show nothing: zero-width space, controls, a soft hyphen, Hangul filler, a word
# joiner with a variation selector, braille blank, ideographic space, line separator.
INVISIBLE = ["\u200b", "\x01\x02\x7f", "\u00ad", "\u3164", "\u2060\ufe0f", "\u2800", "\u3000\u2028"]


def pointers(problem: dict) -> list[str]:
    return [e["pointer"] for e in problem["errors"]]


# --- NUL ---------------------------------------------------------------------------------


@pytest.mark.parametrize("title", [NUL, f"milk{NUL}", f"{NUL}milk", "a" * 10 + NUL * 3])
async def test_nul_in_a_title_is_422_naming_it(client: httpx.AsyncClient, title: str) -> None:
    problem = assert_problem(await client.post("/api/todos", json={"title": title}), 422)
    assert pointers(problem) == ["/title"]
    assert "NUL" in problem["errors"][0]["detail"]
    todo = (await client.post("/api/todos", json={"title": "kept"})).json()
    problem = assert_problem(await client.patch(todo["url"], json={"title": title}), 422)
    assert pointers(problem) == ["/title"]
    assert (await client.get(todo["url"])).json()["title"] == "kept"


async def test_nul_in_a_bulk_item_names_the_item(client: httpx.AsyncClient) -> None:
    items = [{"title": "a"}, {"title": "b"}, {"title": "c"}, {"title": f"d{NUL}"}]
    problem = assert_problem(await client.post("/api/todos", json=items), 422)
    assert pointers(problem) == ["/3/title"]
    assert (await client.get("/api/todos")).json() == []  # all or nothing


async def test_nul_in_a_list_name_is_422(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.post("/api/lists", json={"name": f"x{NUL}"}), 422)
    assert pointers(problem) == ["/name"]
    problem = assert_problem(await client.patch("/api/lists/1", json={"name": NUL}), 422)
    assert pointers(problem) == ["/name"]
    assert (await client.get("/api/lists/1")).json()["name"] == "Inbox"


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_nul_in_the_search_is_422_naming_q(client: httpx.AsyncClient, method: str) -> None:
    await client.post("/api/todos", json={"title": "milk"})
    body = {"completed": True} if method == "PATCH" else None
    response = await client.request(method, "/api/todos", params={"q": f"mi{NUL}"}, json=body)
    problem = assert_problem(response, 422)
    assert [e["parameter"] for e in problem["errors"]] == ["q"]
    assert len((await client.get("/api/todos")).json()) == 1


# --- invisible characters ------------------------------------------------------------------


@pytest.mark.parametrize("text", INVISIBLE)
async def test_invisible_titles_and_names_are_empty(client: httpx.AsyncClient, text: str) -> None:
    problem = assert_problem(await client.post("/api/todos", json={"title": text}), 422)
    assert pointers(problem) == ["/title"]
    problem = assert_problem(await client.post("/api/lists", json={"name": f" {text} "}), 422)
    assert pointers(problem) == ["/name"]
    problem = assert_problem(await client.get("/api/todos", params={"q": text}), 422)
    assert [e["parameter"] for e in problem["errors"]] == ["q"]
    assert (await client.get("/api/todos")).json() == []


async def test_invisible_characters_are_trimmed_like_spaces(client: httpx.AsyncClient) -> None:
    todo = (await client.post("/api/todos", json={"title": "\u200b\u2060 milk \u00ad\x7f"})).json()
    assert todo["title"] == "milk"
    made = await client.post("/api/lists", json={"name": "\u3164Groceries\u200b"})
    assert made.json()["name"] == "Groceries"
    # The same name behind invisible characters is the same name: 409, not a look-alike.
    problem = assert_problem(await client.post("/api/lists", json={"name": "\u200bGroceries"}), 409)
    assert pointers(problem) == ["/name"]


async def test_visible_emoji_sequences_are_kept_whole(client: httpx.AsyncClient) -> None:
    # A variation selector or tag characters at the end complete the character before them.
    heart = "\u2764\ufe0f"
    scotland = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    family = "\U0001f469\u200d\U0001f467"  # a joiner inside stays
    for title in (heart, scotland, family, "a\u200bb"):
        response = await client.post("/api/todos", json={"title": f" {title}\u200b"})
        assert response.status_code == 201, response.text
        assert response.json()["title"] == title


# --- If-Match ------------------------------------------------------------------------------

# Header values are bytes; the server reads them as Latin-1 (so b"\xb2" arrives as "²").
NEVER_MATCHING = [
    b'"2147483648"',  # past the version column (integer)
    b'"9223372036854775808"',
    b'"99999999999999999999"',
    b'"' + b"9" * 5000 + b'"',  # int() refuses more than 4,300 digits
    b'"\xb2"',  # "²": str.isdigit() says yes, int() says no
    '"\u0661"'.encode(),  # an Arabic-Indic one, sent as UTF-8
    b'"01"',  # not how this API writes version 1
    b'"-1"',
    b'""',
    b'"',
    b"1",  # not an entity-tag
]


@pytest.mark.parametrize("tag", NEVER_MATCHING)
async def test_if_match_that_names_no_version_is_412(client: httpx.AsyncClient, tag: bytes) -> None:
    todo = (await client.post("/api/todos", json={"title": "guarded"})).json()
    headers = {"If-Match": tag}
    for body in ({"title": "x"}, {"order": 1}, {"list_id": 1}, {}):
        response = await client.patch(todo["url"], json=body, headers=headers)
        assert_problem(response, 412)
        assert response.headers["etag"] == '"1"'
    assert_problem(await client.delete(todo["url"], headers=headers), 412)
    assert (await client.get(todo["url"])).json() == todo

    assert_problem(await client.patch("/api/lists/1", json={"name": "x"}, headers=headers), 412)
    assert_problem(await client.delete("/api/lists/1", headers=headers), 412)
    assert (await client.get("/api/lists/1")).json()["name"] == "Inbox"


async def test_if_match_still_matches_among_foreign_tags(client: httpx.AsyncClient) -> None:
    todo = (await client.post("/api/todos", json={"title": "guarded"})).json()
    tags = b'"99999999999999999999", "\xb2", W/"1", "1"'
    response = await client.patch(todo["url"], json={"title": "mine"}, headers={"If-Match": tags})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2


# --- page cursors --------------------------------------------------------------------------


def cursor(*parts: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(parts))).rstrip(b"=").decode()


CRAFTED = [
    ("/api/todos", cursor("order", 2**31, 1)),
    ("/api/todos", cursor("order", 1, 2**63)),
    ("/api/todos", cursor("order", True, 1)),
    ("/api/todos", cursor("order", 1.5, 1)),
    ("/api/todos", cursor("order", "1", 1)),
    ("/api/todos created_at", cursor("created_at", "0001-01-01T00:00:00+14:00", 1)),
    ("/api/todos -created_at", cursor("-created_at", "9999-12-31T23:59:59-14:00", 1)),
    ("/api/todos updated_at", cursor("updated_at", "2024-01-01T00:00:00", 1)),  # naive
    ("/api/todos updated_at", cursor("updated_at", 1700000000, 1)),
    ("/api/todos updated_at", cursor("updated_at", "2024-01-01T00:00:00+00:00", 0)),
    ("/api/todos -order", cursor("order", 1, 1)),  # another sort's cursor
    ("/api/lists", cursor("id", 2**63, 2**63)),
    ("/api/lists", cursor("id", True, True)),
    ("/api/lists", cursor("id", 1, 1, 1)),
    ("/api/lists", cursor("order", 1, 1)),  # another sort's cursor
    ("/api/lists", base64.urlsafe_b64encode(b'["id", 1e400, 1]').decode()),
    ("/api/lists", "é"),
]


def page(url_and_sort: str, cursor: str) -> tuple[str, dict[str, str]]:
    """ "/api/todos -created_at" -> the URL and its query (httpx's params replace a query)."""
    url, _, sort = url_and_sort.partition(" ")
    return url, {"cursor": cursor, **({"sort": sort} if sort else {})}


@pytest.mark.parametrize(("url", "crafted"), CRAFTED)
async def test_crafted_cursors_are_422(client: httpx.AsyncClient, url: str, crafted: str) -> None:
    url, params = page(url, crafted)
    problem = assert_problem(await client.get(url, params=params), 422)
    assert [e["parameter"] for e in problem["errors"]] == ["cursor"]


async def test_cursor_ids_span_the_bigint_range(client: httpx.AsyncClient) -> None:
    # Ids are bigint: a cursor past every id is a valid, empty page (not an int4 overflow).
    await client.post("/api/todos", json={"title": "a"})
    for url, parts in (
        ("/api/todos", ("order", 2**31 - 1, 2**63 - 1)),
        ("/api/todos", ("order", 2**31 - 1, 2**40)),
        ("/api/todos -created_at", ("-created_at", "0001-01-01T00:00:00+00:00", 2**40)),
        ("/api/todos updated_at", ("updated_at", "9999-12-31T23:59:59+00:00", 2**40)),
        ("/api/lists", ("id", 2**63 - 1, 2**63 - 1)),
    ):
        url, params = page(url, cursor(*parts))
        response = await client.get(url, params=params)
        assert response.status_code == 200, response.text
        assert response.json() == []


# --- ids -----------------------------------------------------------------------------------

ALIASES_OF_1 = ["01", "001", "\u0661", "\uff11", "+1", "1.0", " 1", "1_0"]


@pytest.mark.parametrize("alias", ALIASES_OF_1)
async def test_an_id_has_one_spelling(client: httpx.AsyncClient, alias: str) -> None:
    todo = (await client.post("/api/todos", json={"title": "only /api/todos/1"})).json()
    assert todo["id"] == 1
    for method in ("GET", "PATCH", "DELETE"):
        body = {"title": "changed"} if method == "PATCH" else None
        for kind in ("todos", "lists"):
            response = await client.request(method, f"/api/{kind}/{alias}", json=body)
            assert_problem(response, 404)
    assert (await client.get("/api/todos/1")).json() == todo
    assert (await client.get("/api/lists/1")).json()["name"] == "Inbox"


@pytest.mark.parametrize("alias", [*ALIASES_OF_1, "0", "9223372036854775808"])
async def test_list_id_parameter_has_one_spelling(client: httpx.AsyncClient, alias: str) -> None:
    await client.post("/api/todos", json={"title": "stays"})
    for method in ("GET", "PATCH", "DELETE"):
        body = {"completed": True} if method == "PATCH" else None
        response = await client.request(method, "/api/todos", params={"list_id": alias}, json=body)
        problem = assert_problem(response, 422)
        assert [e["parameter"] for e in problem["errors"]] == ["list_id"]
    assert [t["completed"] for t in (await client.get("/api/todos")).json()] == [False]
