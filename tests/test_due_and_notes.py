"""Due dates and notes: the fields, their validation, the due filters, and sorting by due
date with keyset pages (also while other clients insert)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx

from .test_pages_and_search import make, next_link, pages

NOTES = "Call first.\n\n  - the red one\n  - not the blue one\t(too big)\n"


async def create(client: httpx.AsyncClient, **fields: object) -> dict:
    response = await client.post("/api/todos", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


def problems(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [e.get("parameter") or e["pointer"] for e in response.json()["errors"]]


async def test_due_and_notes_are_stored_changed_and_cleared(client: httpx.AsyncClient) -> None:
    todo = await create(client, title="paint", due="2031-02-28", notes=NOTES)
    assert (todo["due"], todo["notes"]) == ("2031-02-28", NOTES)  # notes kept as typed
    assert (await client.get(todo["url"])).json() == todo

    changed = await client.patch(todo["url"], json={"due": "2031-03-01", "notes": "done soon"})
    assert changed.status_code == 200
    assert (changed.json()["due"], changed.json()["notes"]) == ("2031-03-01", "done soon")
    # Each change is a new version, so the ETag changes and old If-Match tags fail.
    assert changed.json()["version"] == todo["version"] + 1
    assert changed.headers["etag"] == f'"{todo["version"] + 1}"'
    stale = await client.patch(
        todo["url"], json={"due": "2040-01-01"}, headers={"If-Match": f'"{todo["version"]}"'}
    )
    assert stale.status_code == 412

    cleared = (await client.patch(todo["url"], json={"due": None, "notes": None})).json()
    assert (cleared["due"], cleared["notes"]) == (None, None)
    assert cleared["title"] == "paint"
    # Empty notes are no notes.
    emptied = await client.patch(todo["url"], json={"notes": ""})
    assert emptied.json()["notes"] is None


async def test_null_still_cannot_clear_a_required_field(client: httpx.AsyncClient) -> None:
    todo = await create(client, title="keep me")
    for field in ("title", "completed", "order", "list_id"):
        assert problems(await client.patch(todo["url"], json={field: None})) == [f"/{field}"]
    assert (await client.get(todo["url"])).json()["version"] == todo["version"]


async def test_due_must_be_a_calendar_date_written_yyyy_mm_dd(client: httpx.AsyncClient) -> None:
    for bad in [
        "2031-02-29",  # not a leap year
        "2031-13-01",
        "2031-1-5",
        "2031-01-05T00:00:00",
        "2031-01-05Z",
        "05/01/2031",
        "\uff12\uff10\uff13\uff11-\uff10\uff11-\uff10\uff15",  # full-width digits
        20310105,
        1_900_000_000,  # a timestamp is not a date
        True,
        "",
    ]:
        response = await client.post("/api/todos", json={"title": "x", "due": bad})
        assert problems(response) == ["/due"], bad
    assert (await client.get("/api/todos")).json() == []
    ok = await create(client, title="leap", due="2032-02-29")
    assert ok["due"] == "2032-02-29"


async def test_notes_are_plain_text_up_to_10000_characters(client: httpx.AsyncClient) -> None:
    longest = await create(client, title="long", notes="é" * 10_000)
    assert len(longest["notes"]) == 10_000
    assert problems(await client.post("/api/todos", json={"title": "x", "notes": "n" * 10_001}))
    assert problems(await client.post("/api/todos", json={"title": "x", "notes": "a\x00b"}))
    assert problems(await client.post("/api/todos", json={"title": "x", "notes": 5}))
    markup = await create(client, title="m", notes="<script>alert(1)</script>")
    assert markup["notes"] == "<script>alert(1)</script>"  # text, stored as sent


async def test_bulk_create_takes_due_and_notes(client: httpx.AsyncClient) -> None:
    created = await make(client, ["a", "b"], due="2030-05-06", notes="both")
    assert [(t["due"], t["notes"]) for t in created] == [("2030-05-06", "both")] * 2
    bad = await client.post("/api/todos", json=[{"title": "ok"}, {"title": "x", "due": "soon"}])
    assert problems(bad) == ["/1/due"]


async def test_due_before_and_after_are_inclusive(client: httpx.AsyncClient) -> None:
    for day in ("2030-01-01", "2030-01-02", "2030-01-03", None):
        await create(client, title=f"due {day}", due=day)

    async def titles(**params: str) -> list[str]:
        response = await client.get("/api/todos", params=params)
        assert response.status_code == 200, response.text
        return [t["title"] for t in response.json()]

    assert await titles(due_before="2030-01-02") == ["due 2030-01-01", "due 2030-01-02"]
    assert await titles(due_after="2030-01-02") == ["due 2030-01-02", "due 2030-01-03"]
    assert await titles(due_after="2030-01-02", due_before="2030-01-02") == ["due 2030-01-02"]
    assert problems(await client.get("/api/todos?due_before=tomorrow")) == ["due_before"]
    assert problems(await client.get("/api/todos?due_after=2030-02-30")) == ["due_after"]


async def test_overdue_is_before_today_in_the_given_time_zone(client: httpx.AsyncClient) -> None:
    """Kiritimati (UTC+14) and Pago Pago (UTC-11) are 25 hours apart: their calendars never
    show the same day, so a todo due "today in Pago Pago" is overdue in Kiritimati only."""
    east, west = "Pacific/Kiritimati", "Pacific/Pago_Pago"
    west_today = datetime.now(ZoneInfo(west)).date()
    assert datetime.now(ZoneInfo(east)).date() > west_today
    due_west_today = await create(client, title="west today", due=west_today.isoformat())
    long_ago = await create(client, title="long ago", due="2001-01-01")
    await create(client, title="done long ago", due="2001-01-01", completed=True)
    await create(client, title="no date")
    await create(client, title="far", due="2999-12-31")

    async def ids(**params: str) -> set[int]:
        response = await client.get("/api/todos", params=params)
        assert response.status_code == 200, response.text
        return {t["id"] for t in response.json()}

    overdue_east = await ids(overdue="true", tz=east)
    assert overdue_east == {due_west_today["id"], long_ago["id"]}
    assert await ids(overdue="true", tz=west) == {long_ago["id"]}
    everything = await ids()
    assert await ids(overdue="false", tz=east) == everything - overdue_east
    # Without tz: the server's today, which lies between the two.
    assert long_ago["id"] in await ids(overdue="true")


async def test_tz_must_be_an_iana_time_zone_name(client: httpx.AsyncClient) -> None:
    for bad in [
        "Mars/Olympus_Mons",
        "../../../etc/passwd",
        "/etc/localtime",
        "europe/paris",
        "Europe/Paris\x00",
        "x" * 65,
        "UTC+2",
    ]:
        response = await client.get("/api/todos", params={"overdue": "true", "tz": bad})
        assert problems(response) == ["tz"], bad
    for good in ["Europe/Paris", "America/Argentina/Buenos_Aires", "UTC"]:
        response = await client.get("/api/todos", params={"overdue": "true", "tz": good})
        assert response.status_code == 200, good


def due_key(todo: dict, descending: bool) -> tuple:
    """How the API sorts by due date: undated last in both directions, then by id."""
    if todo["due"] is None:
        return (1, 0, todo["id"] if not descending else -todo["id"])
    day = date.fromisoformat(todo["due"]).toordinal()
    return (0, -day, -todo["id"]) if descending else (0, day, todo["id"])


async def test_sort_by_due_puts_undated_last_and_pages_through_nulls(
    client: httpx.AsyncClient,
) -> None:
    days = [None, "2030-03-01", None, "2030-01-01", "2030-03-01", None, "2030-02-01", None]
    for i, day in enumerate(days):
        await create(client, title=f"t{i}", due=day)
    for sort in ("due", "-due"):
        descending = sort == "-due"
        everything = (await client.get("/api/todos", params={"sort": sort})).json()
        assert [t["due"] for t in everything][-4:] == [None] * 4, sort
        keys = [due_key(t, descending) for t in everything]
        assert keys == sorted(keys), sort
        # Pages of 3 end on undated todos too: the cursor holds a null key.
        walked = await pages(client, f"/api/todos?limit=3&sort={sort}")
        assert [len(p) for p in walked] == [3, 3, 2]
        assert [t["id"] for p in walked for t in p] == [t["id"] for t in everything], sort


async def test_a_due_cursor_is_checked(client: httpx.AsyncClient) -> None:
    await make(client, ["a", "b"], due="2030-01-01")
    first = await client.get("/api/todos", params={"sort": "due", "limit": 1})
    cursor = next_link(first)
    assert cursor is not None
    wrong_sort = cursor.replace("sort=due", "sort=-due")
    assert problems(await client.get(wrong_sort)) == ["cursor"]


async def walk_while_churning(
    client: httpx.AsyncClient, sort: str, days: list[str | None], doomed: list[dict]
) -> list[dict]:
    """Walks every page of `sort` while another task creates and deletes todos."""
    stop = asyncio.Event()

    async def churn() -> int:
        changes = 0
        while not stop.is_set() and changes < 400:
            day = days[(changes * 7) % len(days)]
            await client.post("/api/todos", json={"title": "new", "due": day})
            if changes < len(doomed):
                await client.delete(doomed[changes]["url"])
            changes += 1
        return changes

    async def read_pages() -> list[dict]:
        seen: list[dict] = []
        url: str | None = f"/api/todos?limit=5&sort={sort}"
        while url:
            response = await client.get(url)
            seen += response.json()
            url = next_link(response)
        stop.set()
        return seen

    seen, changes = await asyncio.gather(read_pages(), churn())
    assert changes > 0
    return seen


async def test_due_pages_stay_correct_while_others_insert(live_client: httpx.AsyncClient) -> None:
    """Walking the todos by due date (both ways) while other clients create todos with
    dates before, at and after the page boundary, and without one, and delete others:
    every todo that exists throughout is seen exactly once, and the walk is in order."""
    days = [None, *(f"2030-01-{d:02}" for d in range(1, 29))]
    stable = await make(live_client, [f"stable {i}" for i in range(58)])
    for i, todo in enumerate(stable):
        await live_client.patch(todo["url"], json={"due": days[i % len(days)]})
    for sort in ("due", "-due"):
        doomed = await make(live_client, [f"doomed {i}" for i in range(20)], due="2030-01-15")
        seen = await walk_while_churning(live_client, sort, days, doomed)
        ids = [t["id"] for t in seen]
        assert len(ids) == len(set(ids)), "a todo was repeated"
        assert {t["id"] for t in stable} <= set(ids), "a todo was skipped"
        keys = [due_key(t, sort == "-due") for t in seen]
        assert keys == sorted(keys), sort
