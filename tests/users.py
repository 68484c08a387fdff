"""Accounts for tests: alice (made by the clean_db fixture, with an access token) and helpers
that make more users through the API, as a person or a script would."""

from __future__ import annotations

import httpx

ALICE_ID, ALICE, ALICE_PASSWORD = 1, "alice", "alice's long secret"
ALICE_TOKEN = "tdo_alice-test-token-0123456789abcdef"
AUTH_HEADERS = {"Authorization": f"Bearer {ALICE_TOKEN}"}
ORIGIN = "http://localhost"  # the in-process clients' base URL: their own origin
SAME_ORIGIN = {"Origin": ORIGIN}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def signup(client: httpx.AsyncClient, username: str, password: str | None = None) -> str:
    """Signs up (the client keeps the session cookie); returns a new access token of theirs."""
    password = password or f"{username}'s long secret"
    response = await client.post(
        "/api/auth/signup", json={"username": username, "password": password}, headers=SAME_ORIGIN
    )
    assert response.status_code == 201, response.text
    response = await client.post("/api/tokens", json={"name": "tests"}, headers=SAME_ORIGIN)
    assert response.status_code == 201, response.text
    return response.json()["token"]
