"""Positions (the API's `order`): what an insert or a move costs, counted in moved todos
(each move raises the todo's version), and the API's order rules checked against a model."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.data.positions import RUN_LIMIT

LONG = 2000  # todos in the "long list" below: two bulk creates of the most allowed


async def long_list(client: httpx.AsyncClient) -> list[dict]:
    todos = []
    for start in range(0, LONG, 1000):
        items = [{"title": f"t{i}"} for i in range(start, start + 1000)]
        response = await client.post("/api/todos", json=items)
        assert response.status_code == 201
        todos += response.json()
    return todos


async def moves(db: AsyncEngine) -> dict[str, int]:
    """Times each todo moved since it was created, by title, for todos that moved."""
    async with db.connect() as conn:
        rows = await conn.execute(text("SELECT title, version - 1 FROM todos WHERE version > 1"))
        return {title: n for title, n in rows}


async def test_an_insert_at_a_taken_order_moves_one_todo_however_long_the_list(
    client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    todos = await long_list(client)
    response = await client.post("/api/todos", json={"title": "new", "order": todos[0]["order"]})
    assert response.json()["order"] == todos[0]["order"]
    assert await moves(clean_db) == {"t0": 1}
    titles = [t["title"] for t in (await client.get("/api/todos", params={"limit": 3})).json()]
    assert titles == ["new", "t0", "t1"]


async def test_a_move_moves_only_the_todo_in_its_way(
    client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    todos = await long_list(client)
    last = todos[-1]
    response = await client.patch(last["url"], json={"order": todos[1]["order"]})
    assert response.json()["order"] == todos[1]["order"]
    assert await moves(clean_db) == {last["title"]: 1, "t1": 1}
    titles = [t["title"] for t in (await client.get("/api/todos", params={"limit": 3})).json()]
    assert titles == ["t0", last["title"], "t1"]


async def test_a_bulk_at_one_order_makes_room_once(
    client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    todos = await long_list(client)
    items = [{"title": f"new {i}", "order": todos[0]["order"]} for i in range(500)]
    created = (await client.post("/api/todos", json=items)).json()
    assert await moves(clean_db) == {"t0": 1}
    page = (await client.get("/api/todos", params={"limit": 502})).json()
    assert [t["title"] for t in page] == [t["title"] for t in created] + ["t0", "t1"]


async def test_repeated_inserts_at_one_place_stay_cheap(
    client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    """Always inserting at the top (a "newest first" client) is the worst case for holes:
    each insert lands where the last one did, here on a crowd of 100 without holes. Crowds
    get spread out, so the moves stay proportional to the inserts, not to inserts x length."""
    await long_list(client)
    crowd = [{"title": f"crowd {i}", "order": 1} for i in range(100)]
    assert (await client.post("/api/todos", json=crowd)).status_code == 201
    inserts = 300
    for i in range(inserts):
        response = await client.post("/api/todos", json={"title": f"top {i}", "order": 1})
        assert response.json()["order"] == 1
    total = sum((await moves(clean_db)).values())
    print(f"\n{inserts} inserts at order 1 before a crowd of 100 in {LONG}: {total} moves")
    assert total <= 3 * inserts, total  # 764 today: 2.5 per insert, spreads included
    page = (await client.get("/api/todos", params={"limit": inserts + 101})).json()
    expected = [f"top {i}" for i in reversed(range(inserts))] + [c["title"] for c in crowd]
    assert [t["title"] for t in page] == [*expected, "t0"]


async def test_a_deleted_todos_order_is_free_for_others(client: httpx.AsyncClient) -> None:
    """A todo in the trash keeps its position for an undo but takes no room: a todo sent to
    its order moves nobody visible, and the deleted one, restored, comes back at the end."""
    made = []
    for order in (1, 2, 3):
        made.append((await client.post("/api/todos", json={"title": "t", "order": order})).json())
    assert (await client.delete(made[1]["url"])).status_code == 204
    moved = await client.patch(made[0]["url"], json={"order": 2})
    assert (moved.status_code, moved.json()["order"]) == (200, 2)
    listing = (await client.get("/api/todos", params={"list_id": 1})).json()
    assert [(t["id"], t["order"]) for t in listing] == [(made[0]["id"], 2), (made[2]["id"], 3)]
    assert (await client.post(f"{made[1]['url']}/restore")).status_code == 200
    listing = (await client.get("/api/todos", params={"list_id": 1})).json()
    assert [t["id"] for t in listing] == [made[0]["id"], made[2]["id"], made[1]["id"]]


async def test_appends_near_the_highest_order_close_the_gap(client: httpx.AsyncClient) -> None:
    """Appends leave a gap of 1000 while orders stay within what a client may send
    (1,000,000,000), then take the next order: the column never runs out by gaps."""
    near = (await client.post("/api/todos", json={"title": "x", "order": 999_999_990})).json()
    assert near["order"] == 999_999_990
    appended = [(await client.post("/api/todos", json={"title": "y"})).json() for _ in range(2)]
    assert [t["order"] for t in appended] == [1_000_000_000, 1_000_000_001]


# --- the order rules, against a model: a Python list of the todos' ids ---------------------

# Where an operation sends a todo: the order of the k-th todo (mod the list's length) plus
# -1, 0 or +1 (taken places, and the holes next to them), a small order, or None (the end).
TAKEN_OR_SMALL = st.one_of(
    st.tuples(st.just("of"), st.integers(0, 10**6), st.sampled_from([-1, 0, 0, 1])),
    st.tuples(st.just("at"), st.integers(1, 3)),
)
PLACE = st.one_of(st.none(), TAKEN_OR_SMALL)
# A crowd at one place: more than RUN_LIMIT makes the next insert there spread it out.
CROWD = st.one_of(st.integers(1, 3), st.integers(RUN_LIMIT + 1, RUN_LIMIT + 8))
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), PLACE),
        st.tuples(st.just("bulk"), PLACE, CROWD, st.lists(PLACE, max_size=4)),
        st.tuples(st.just("move"), st.integers(0, 10**6), TAKEN_OR_SMALL),
        st.tuples(st.just("delete"), st.integers(0, 10**6)),
    ),
    min_size=1,
    max_size=20,
)


def resolve(place: Any, todos: list[dict]) -> int | None:
    if place is None:
        return None
    if place[0] == "at":
        return place[1]
    if not todos:
        return 1
    return max(1, todos[place[1] % len(todos)]["order"] + place[2])


def model_insert(before: list[dict], new: list[tuple[int | None, int]]) -> list[int]:
    """The ids in order after inserting `new` (order or None, id) items into `before`: each
    before every todo that had an order >= its own, items at one order in the given order,
    items without order at the end."""
    keyed = [(t["order"], 1, 0, t["id"]) for t in before]
    keyed += [(order, 0, n, i) for n, (order, i) in enumerate(new) if order is not None]
    ends = [i for order, i in new if order is None]
    return [key[3] for key in sorted(keyed)] + ends


class Listing:
    """The Inbox as the API shows it, checked each time it is read."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.todos: list[dict] = []

    async def read(self) -> list[dict]:
        before = {t["id"]: t for t in self.todos}
        response = await self.client.get("/api/todos", params={"list_id": 1, "limit": 1000})
        self.todos = response.json()
        orders = [t["order"] for t in self.todos]
        assert orders == sorted(set(orders)), "orders are unique"
        for todo in self.todos:  # a todo that moved changed: its ETag must change
            old = before.get(todo["id"])
            if old is not None and old["order"] != todo["order"]:
                assert todo["version"] > old["version"]
        return self.todos

    def moved(self, before: list[dict], but: set[int]) -> list[int]:
        now = {t["id"]: t["order"] for t in self.todos}
        return [t["id"] for t in before if t["id"] not in but and now[t["id"]] != t["order"]]


async def apply(client: httpx.AsyncClient, op: tuple, before: list[dict]) -> list[int]:
    """Send one operation; the ids in order the model expects after it."""
    if op[0] in ("add", "bulk"):
        places = [op[1]] if op[0] == "add" else [op[1]] * op[2] + op[3]
        items = [{"title": f"n{n}"} for n in range(len(places))]
        for item, place in zip(items, places, strict=True):
            if (order := resolve(place, before)) is not None:
                item["order"] = order
        response = await client.post("/api/todos", json=items if op[0] == "bulk" else items[0])
        assert response.status_code == 201, response.text
        created = response.json() if op[0] == "bulk" else [response.json()]
        if op[0] == "add" and "order" in items[0]:
            assert created[0]["order"] == items[0]["order"]
        return model_insert(
            before, [(i.get("order"), t["id"]) for i, t in zip(items, created, strict=True)]
        )
    if not before:
        return []
    todo = before[op[1] % len(before)]
    if op[0] == "delete":
        assert (await client.delete(todo["url"])).status_code == 204
        return [t["id"] for t in before if t["id"] != todo["id"]]
    order = resolve(op[2], before)
    response = await client.patch(todo["url"], json={"order": order})
    assert (response.status_code, response.json()["order"]) == (200, order)
    others = [t for t in before if t["id"] != todo["id"]]
    return model_insert(others, [(order, todo["id"])])


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=OPS)
async def test_orders_follow_the_model(
    client: httpx.AsyncClient, db_engine: AsyncEngine, ops: list[tuple]
) -> None:
    """Random inserts (single and bulk), moves and deletes: after each, the list is in the
    model's order with unique orders; a todo sent to a free order moves nobody else."""
    async with db_engine.begin() as conn:  # each example starts from an empty Inbox
        await conn.execute(text("TRUNCATE todos RESTART IDENTITY"))
        await conn.execute(text("UPDATE todo_lists SET last_position = 0"))
    listing = Listing(client)
    before = await listing.read()
    for op in ops:
        expected = await apply(client, op, before)
        after = await listing.read()
        assert [t["id"] for t in after] == expected, op
        if op[0] != "bulk":
            free = op[0] == "delete" or not any(
                t["order"] == resolve(op[-1], before) for t in before
            )
            acted_on = {t["id"] for t in after} ^ {t["id"] for t in before}  # new or deleted
            if op[0] == "move" and before:
                acted_on.add(before[op[1] % len(before)]["id"])
            if free:
                assert listing.moved(before, acted_on) == [], op
        before = after
