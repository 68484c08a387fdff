"""Accounts: sign-up, sign-in, sessions (cookie flags, fixation, sign-out at once), password
changes, account deletion, access tokens."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from http.cookies import SimpleCookie

import httpx
from asgi_lifespan import LifespanManager
from quart import Quart
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from backend import create_app
from backend.edge.auth import COOKIE
from backend.runtime.config import Settings

from .servers import app_client
from .users import ALICE, ALICE_PASSWORD, ALICE_TOKEN, SAME_ORIGIN, bearer, signup


def cookie_attributes(response: httpx.Response) -> dict[str, object]:
    jar: SimpleCookie = SimpleCookie()
    jar.load(response.headers["set-cookie"])
    morsel = jar[COOKIE]
    return {key: morsel[key] for key in ("httponly", "samesite", "secure", "path", "max-age")}


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    body = {"username": username, "password": password}
    return await client.post("/api/auth/login", json=body, headers=SAME_ORIGIN)


async def test_signup_signs_in_with_an_inbox_of_ones_own(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post(
        "/api/auth/signup",
        json={"username": "Bob.B", "password": "bob's long secret"},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 201
    assert response.json() == {"id": 2, "username": "Bob.B"}
    assert "password" not in response.text
    assert (await anonymous.get("/api/me")).json() == {"id": 2, "username": "Bob.B"}
    [inbox] = (await anonymous.get("/api/lists")).json()
    assert (inbox["name"], inbox["owner"], inbox["role"]) == ("Inbox", "Bob.B", "owner")
    assert inbox["id"] != 1  # not alice's


async def test_signup_rules(anonymous: httpx.AsyncClient) -> None:
    async def attempt(username: str, password: str) -> httpx.Response:
        body = {"username": username, "password": password}
        return await anonymous.post("/api/auth/signup", json=body, headers=SAME_ORIGIN)

    for bad_name in ("ab", "x" * 41, "bad name", "ümlaut", "semi;colon"):
        response = await attempt(bad_name, "a long enough secret")
        assert response.status_code == 422, bad_name
        assert response.json()["errors"][0]["pointer"] == "/username"
    for bad_password in ("short", "x" * 1001):
        assert (await attempt("carol", bad_password)).status_code == 422
    common = await attempt("carol", "Password123")  # long enough, and on every list
    assert common.status_code == 422
    assert common.json()["errors"] == [{"pointer": "/password", "detail": "too common"}]
    taken = await attempt("ALICE", "another long secret")  # case does not make it new
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["pointer"] == "/username"


async def test_login_cookie_flags_and_wrong_passwords(
    anonymous: httpx.AsyncClient,
) -> None:
    response = await login(anonymous, "ALICE", ALICE_PASSWORD)  # any case
    assert response.status_code == 200
    assert response.json() == {"id": 1, "username": ALICE}
    flags = cookie_attributes(response)
    assert flags["httponly"] is True
    assert str(flags["samesite"]).lower() == "lax"
    assert flags["path"] == "/"
    assert flags["secure"] == ""  # plain HTTP and no COOKIE_SECURE: browsers would drop it
    assert flags["max-age"] == str(30 * 24 * 3600)

    wrong = await login(anonymous, ALICE, "not the password")
    unknown = await login(anonymous, "nobody-here", "not the password")
    for answer in (wrong, unknown):  # the same words: no hint whether the name exists
        assert answer.status_code == 401
        assert answer.json()["detail"] == "Wrong username or password."


async def test_secure_cookie_over_https_or_when_told(app: Quart, clean_db: AsyncEngine) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://localhost") as https:
        response = await https.post(
            "/api/auth/login",
            json={"username": ALICE, "password": ALICE_PASSWORD},
            headers={"Origin": "https://localhost"},
        )
    assert cookie_attributes(response)["secure"] is True


async def test_unauthenticated_api_requests_get_401(anonymous: httpx.AsyncClient) -> None:
    for method, path in [("GET", "/api/todos"), ("POST", "/api/lists"), ("GET", "/api/me")]:
        response = await anonymous.request(method, path)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/problem+json"
    bad = await anonymous.get("/api/todos", headers=bearer("tdo_made-up"))
    assert bad.status_code == 401
    # The app's pages and the probes need no credentials.
    assert (await anonymous.get("/")).status_code == 200
    assert (await anonymous.get("/healthz")).status_code == 200


async def test_login_gives_a_new_session_and_ends_the_planted_one(
    anonymous: httpx.AsyncClient, app: Quart
) -> None:
    """Session fixation: an attacker's session id planted in the browser before sign-in is
    worth nothing after it; the browser gets a new id."""
    first = await login(anonymous, ALICE, ALICE_PASSWORD)
    planted = first.cookies[COOKIE]
    second = await login(anonymous, ALICE, ALICE_PASSWORD)  # sends `planted` along
    fresh = second.cookies[COOKIE]
    assert fresh != planted
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as attacker:
        attacker.cookies.set(COOKIE, planted)
        assert (await attacker.get("/api/me")).status_code == 401
        attacker.cookies.set(COOKIE, fresh)
        assert (await attacker.get("/api/me")).status_code == 200


async def test_logout_ends_the_session_at_once(anonymous: httpx.AsyncClient) -> None:
    await login(anonymous, ALICE, ALICE_PASSWORD)
    secret = anonymous.cookies[COOKIE]
    assert (await anonymous.get("/api/todos")).status_code == 200  # and now cached
    response = await anonymous.post("/api/auth/logout", headers=SAME_ORIGIN)
    assert response.status_code == 204
    assert anonymous.cookies.get(COOKIE) is None  # cleared
    anonymous.cookies.set(COOKIE, secret)  # a copy kept elsewhere is dead too
    assert (await anonymous.get("/api/todos")).status_code == 401


async def test_sign_out_everywhere(app: Quart, anonymous: httpx.AsyncClient) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as laptop:
        await login(laptop, ALICE, ALICE_PASSWORD)
        await login(anonymous, ALICE, ALICE_PASSWORD)
        assert (await laptop.get("/api/me")).status_code == 200
        assert (await anonymous.delete("/api/me/sessions", headers=SAME_ORIGIN)).status_code == 204
        assert (await laptop.get("/api/me")).status_code == 401
        assert (await anonymous.get("/api/me")).status_code == 401


async def test_password_change_ends_other_sessions(
    app: Quart, anonymous: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as other:
        await login(other, ALICE, ALICE_PASSWORD)
        await login(anonymous, ALICE, ALICE_PASSWORD)
        body = {"current_password": "wrong one", "new_password": "a brand new secret"}
        refused = await anonymous.put("/api/me/password", json=body, headers=SAME_ORIGIN)
        assert refused.status_code == 403
        body["current_password"] = ALICE_PASSWORD
        changed = await anonymous.put("/api/me/password", json=body, headers=SAME_ORIGIN)
        assert changed.status_code == 200
        assert (await anonymous.get("/api/me")).status_code == 200  # a new session here
        assert (await other.get("/api/me")).status_code == 401  # the other one ended
    assert (await client.get("/api/me")).status_code == 200  # tokens stay
    assert (await login(anonymous, ALICE, ALICE_PASSWORD)).status_code == 401
    assert (await login(anonymous, ALICE, "a brand new secret")).status_code == 200


async def test_tokens_shown_once_listed_without_secret_and_revoked_at_once(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    created = await client.post("/api/tokens", json={"name": " my script "})
    assert created.status_code == 201
    token = created.json()
    assert set(token) == {"id", "name", "token", "created_at", "last_used_at"}
    assert token["name"] == "my script" and token["token"].startswith("tdo_")
    assert (await anonymous.get("/api/me", headers=bearer(token["token"]))).status_code == 200
    listed = (await client.get("/api/tokens")).json()
    assert [t["name"] for t in listed] == ["tests", "my script"]
    assert all("token" not in t for t in listed)
    assert listed[1]["last_used_at"] is not None  # it was just used
    assert token["token"] not in (await client.get("/api/tokens")).text
    assert (await client.delete(f"/api/tokens/{token['id']}")).status_code == 204
    assert (await anonymous.get("/api/me", headers=bearer(token["token"]))).status_code == 401
    assert (await client.delete(f"/api/tokens/{token['id']}")).status_code == 404


async def test_account_deletion_removes_everything_in_one_go(
    anonymous: httpx.AsyncClient, client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    bob_token = await signup(anonymous, "bob")
    bob = {"Authorization": f"Bearer {bob_token}"}
    groceries = (await anonymous.post("/api/lists", json={"name": "Groceries"}, headers=bob)).json()
    await anonymous.post(
        "/api/todos", json={"title": "milk", "list_id": groceries["id"]}, headers=bob
    )
    # bob is also a member of alice's Inbox
    assert (
        await client.put("/api/lists/1/members/bob", json={"role": "editor"})
    ).status_code == 200
    await anonymous.post(
        "/api/todos", json={"title": "bob's in alice's list", "list_id": 1}, headers=bob
    )

    refused = await anonymous.request(
        "DELETE", "/api/me", json={"password": "not bob's"}, headers=bob
    )
    assert refused.status_code == 403
    response = await anonymous.request(
        "DELETE", "/api/me", json={"password": "bob's long secret"}, headers=bob
    )
    assert response.status_code == 204
    async with clean_db.connect() as conn:
        counts = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM users WHERE id = 2),"
                    " (SELECT count(*) FROM todo_lists WHERE owner_id = 2),"
                    " (SELECT count(*) FROM todos WHERE list_id = :g),"
                    " (SELECT count(*) FROM sessions WHERE user_id = 2),"
                    " (SELECT count(*) FROM access_tokens WHERE user_id = 2),"
                    " (SELECT count(*) FROM list_members WHERE user_id = 2)"
                ),
                {"g": groceries["id"]},
            )
        ).one()
    assert tuple(counts) == (0, 0, 0, 0, 0, 0)
    # What bob wrote in alice's list is alice's, and stays.
    titles = [t["title"] for t in (await client.get("/api/todos", params={"list_id": 1})).json()]
    assert titles == ["bob's in alice's list"]
    assert (await anonymous.get("/api/me", headers=bob)).status_code == 401
    assert [m["username"] for m in (await client.get("/api/lists/1/members")).json()] == [ALICE]


async def test_first_account_takes_over_the_data_of_before(
    anonymous: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    """A database from before accounts: its lists belong to the implicit user, and the first
    account created gets them (besides an Inbox, which it already has then)."""
    async with clean_db.begin() as conn:
        await conn.execute(text("DELETE FROM users WHERE id = 1"))
        await conn.execute(
            text("INSERT INTO todo_lists (name, owner_id) VALUES ('Inbox', 0), ('Old', 0)")
        )
    await signup(anonymous, "first")
    names = sorted(lst["name"] for lst in (await anonymous.get("/api/lists")).json())
    assert names == ["Inbox", "Old"]
    second = await signup(anonymous, "second")
    lists = (await anonymous.get("/api/lists", headers=bearer(second))).json()
    assert [lst["name"] for lst in lists] == ["Inbox"]


async def test_hostile_input_is_refused_before_the_database(
    anonymous: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    """Text PostgreSQL cannot store (NUL) or names that cannot exist never reach it."""
    for username in ("al\x00ice", "alice'; --", "a" * 41):
        body = {"username": username, "password": "whatever it is"}
        response = await anonymous.post("/api/auth/login", json=body)
        assert response.status_code in (400, 422), username
    for name in ("nul\x00name", "new\nline"):
        response = await client.post("/api/tokens", json={"name": name})
        assert response.status_code == 422, name
    member = await client.put("/api/lists/1/members/bo%00b", json={"role": "viewer"})
    assert member.status_code == 404
    # The same for the todo and list fields the fuzzer reaches once signed in.
    assert (await client.post("/api/todos", json={"title": "a\x00b"})).status_code == 422
    assert (await client.patch("/api/lists/1", json={"name": "a\x00b"})).status_code == 422
    assert (await client.get("/api/todos", params={"q": "a\x00b"})).status_code == 422


async def test_a_burst_with_one_credential_looks_it_up_once(
    settings: Settings, clean_db: AsyncEngine
) -> None:
    """20 requests at once with a token nobody has used yet: one look-up, which the others
    wait for, not 20 (each would hold a pooled connection: under load, 503s)."""
    lookups = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "FROM access_tokens" in statement:
            lookups.append(statement)

    async with app_client(settings) as (app, http):
        event.listen(app.extensions["db_engine"].sync_engine, "before_cursor_execute", count)
        answers = await asyncio.gather(*(http.get("/api/todos") for _ in range(20)))
    assert [r.status_code for r in answers] == [200] * 20
    assert len(lookups) == 1


async def test_a_token_is_not_a_session_cookie(anonymous: httpx.AsyncClient) -> None:
    """Each kind of credential is looked up (and cached) as itself: a token's secret sent as
    the session cookie right after it was used as a token is still not a session."""
    assert (await anonymous.get("/api/me", headers=bearer(ALICE_TOKEN))).status_code == 200
    anonymous.cookies.set(COOKIE, ALICE_TOKEN)
    assert (await anonymous.get("/api/me")).status_code == 401


async def test_a_session_idle_for_30_days_has_ended(
    anonymous: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    assert (await login(anonymous, ALICE, ALICE_PASSWORD)).status_code == 200
    async with clean_db.begin() as conn:  # a month without use
        await conn.execute(text("UPDATE sessions SET last_seen_at = now() - interval '31 days'"))
    assert (await anonymous.get("/api/me")).status_code == 401


async def test_metrics_need_the_token_or_a_loopback_client(
    settings: Settings, clean_db: AsyncEngine
) -> None:
    async def scrape(settings: Settings, address: str, headers: dict[str, str]) -> int:
        app = create_app(settings)
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
                return (await c.get("/metrics", headers=headers)).status_code

    assert await scrape(settings, "127.0.0.1", {}) == 200
    assert await scrape(settings, "198.51.100.7", {}) == 403
    guarded = replace(settings, metrics_token="scrape-secret")
    assert await scrape(guarded, "198.51.100.7", bearer("scrape-secret")) == 200
    assert await scrape(guarded, "127.0.0.1", {}) == 401
    assert await scrape(guarded, "198.51.100.7", bearer("guess")) == 401
