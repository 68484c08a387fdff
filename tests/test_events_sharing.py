"""The feed with accounts: a stream carries the events of the lists its user may see (their
own and those shared with them), and a membership event when a list is shared with them or
taken from them; live and on resume alike. With AUTH=off: the implicit user's, everything.

alice (`live_client`) owns list 1; bob signs up in each test. Every read has a deadline
(tests/sse.py): "B never receives X" is checked by the next event B does receive.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.runtime.config import Settings

from .servers import live_app
from .sse import stream
from .users import bearer, signup


@pytest.fixture
async def bob(anonymous: httpx.AsyncClient, live_server: str) -> AsyncIterator[httpx.AsyncClient]:
    """bob, with his own Inbox, on the live server (his access token)."""
    token = await signup(anonymous, "bob")
    async with httpx.AsyncClient(base_url=live_server, headers=bearer(token), timeout=30) as c:
        yield c


async def add(client: httpx.AsyncClient, title: str, list_id: int | None = None) -> dict:
    body = {"title": title} if list_id is None else {"title": title, "list_id": list_id}
    response = await client.post("/api/todos", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def share(owner: httpx.AsyncClient, list_id: int, username: str, role: str) -> None:
    response = await owner.put(f"/api/lists/{list_id}/members/{username}", json={"role": role})
    assert response.status_code == 200, response.text


async def unshare(owner: httpx.AsyncClient, list_id: int, username: str) -> None:
    response = await owner.delete(f"/api/lists/{list_id}/members/{username}")
    assert response.status_code == 204, response.text


async def test_a_stream_needs_credentials(anonymous: httpx.AsyncClient, live_server: str) -> None:
    async with httpx.AsyncClient(base_url=live_server) as nobody:
        response = await nobody.get("/api/events")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_another_users_list_is_not_found(
    live_client: httpx.AsyncClient, bob: httpx.AsyncClient
) -> None:
    response = await bob.get("/api/events", params={"list_id": 1})  # alice's Inbox
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_b_never_receives_as_private_events_live_or_on_resume(
    live_client: httpx.AsyncClient, bob: httpx.AsyncClient
) -> None:
    async with stream(bob) as sse:
        start = (await sse.ready()).id
        await add(live_client, "alice's secret")
        await live_client.patch("/api/lists/1", json={"name": "alice's renamed Inbox"})
        await live_client.post("/api/lists", json={"name": "alice's second"})
        mine = await add(bob, "bob's own")
        event = await sse.event()  # the first event bob gets is his own change
        assert (event.kind, event.todos[0]["id"]) == ("todos.created", mine["id"])
    async with stream(bob, last_event_id=str(start)) as resumed:
        event = await resumed.event()
        assert (event.kind, event.todos[0]["id"]) == ("todos.created", mine["id"])
        assert (await resumed.event()).kind == "ready"


async def test_sharing_brings_a_lists_events_and_unsharing_ends_them(
    live_client: httpx.AsyncClient, bob: httpx.AsyncClient
) -> None:
    async with stream(bob) as sse:
        await sse.ready()
        await share(live_client, 1, "bob", "viewer")
        added = await sse.event()
        assert added.kind == "membership.added" and added.data["list_id"] == 1
        assert added.data["member"] == {"username": "bob", "role": "viewer"}
        todo = await add(live_client, "for both of us")
        assert (await sse.event()).todos[0]["id"] == todo["id"]
        await live_client.patch("/api/lists/1", json={"name": "Ours"})
        renamed = await sse.event()
        assert renamed.kind == "list.updated"
        assert renamed.data["list"]["name"] == "Ours"
        assert renamed.data["list"]["role"] == "viewer"  # bob's role, not alice's
        assert renamed.data["list"]["owner"] == "alice"

        await unshare(live_client, 1, "bob")
        removed = await sse.event()
        assert removed.kind == "membership.removed" and removed.data["list_id"] == 1
        await add(live_client, "alice's again")
        mine = await add(bob, "bob's own")
        assert (await sse.event()).todos[0]["id"] == mine["id"]


async def test_a_resume_replays_a_shared_list_only_from_its_sharing(
    live_client: httpx.AsyncClient, bob: httpx.AsyncClient
) -> None:
    """bob was away while alice changed her list privately, shared it with him and changed
    it again: his resume brings the sharing and what followed, nothing from before."""
    async with stream(bob) as sse:
        start = (await sse.ready()).id
    await add(live_client, "before the sharing")
    await share(live_client, 1, "bob", "editor")
    after = await add(live_client, "after the sharing")
    async with stream(bob, last_event_id=str(start)) as resumed:
        added = await resumed.event()
        assert added.kind == "membership.added"
        assert added.data["member"]["role"] == "editor"
        assert (await resumed.event()).todos[0]["id"] == after["id"]
        assert (await resumed.event()).kind == "ready"


async def test_a_role_change_and_the_owners_view_of_it(
    live_client: httpx.AsyncClient, bob: httpx.AsyncClient
) -> None:
    """The owner's stream sees who their list is shared with; a member sees their new role."""
    async with stream(live_client) as alice_sees, stream(bob) as bob_sees:
        await alice_sees.ready()
        await bob_sees.ready()
        await share(live_client, 1, "bob", "viewer")
        await share(live_client, 1, "bob", "editor")
        for sse in (alice_sees, bob_sees):
            assert (await sse.event()).kind == "membership.added"
            updated = await sse.event()
            assert updated.kind == "membership.updated"
            assert updated.data["member"] == {"username": "bob", "role": "editor"}


async def test_auth_off_streams_carry_the_implicit_users_changes(
    settings_off: Settings, clean_db: AsyncEngine
) -> None:
    async with (
        live_app(settings_off) as (_, url),
        httpx.AsyncClient(base_url=url, timeout=30) as client,
        stream(client) as sse,
    ):
        await sse.ready()
        todo = await add(client, "nobody signed in")
        # (list 1 is alice's: the implicit user's first todo brought its own Inbox)
        inbox = await sse.event()
        assert inbox.kind == "list.created" and inbox.data["list"]["owner"] is None
        event = await sse.event()
        assert event.todos[0]["id"] == todo["id"]


async def test_a_stream_ends_at_the_heartbeat_after_its_token_is_revoked(
    settings: Settings, anonymous: httpx.AsyncClient
) -> None:
    token = await signup(anonymous, "bob")
    tokens = (await anonymous.get("/api/tokens")).json()
    (made,) = [t for t in tokens if t["name"] == "tests"]
    async with (
        live_app(replace(settings, events_heartbeat=0.05)) as (_, url),
        httpx.AsyncClient(base_url=url, headers=bearer(token), timeout=30) as bob,
        stream(bob) as sse,
    ):
        await sse.ready()
        assert (await sse.next()).kind == "comment"  # alive, and checked, at each heartbeat
        revoked = await bob.delete(f"/api/tokens/{made['id']}")
        assert revoked.status_code == 204
        await sse.end()  # (at most a keep-alive or two before it)
        assert (await bob.get("/api/events")).status_code == 401
