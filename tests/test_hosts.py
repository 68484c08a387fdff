"""The Host header is not reflected blindly into `url`, `Location` and `Link`: ALLOWED_HOSTS,
PUBLIC_URL behind a proxy, and X-Forwarded-* believed only from FORWARDED_ALLOW_IPS."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from backend.runtime.config import Settings, public_origin

from .servers import app_client


def post(client: httpx.AsyncClient, host: str, **headers: str) -> httpx.Response:
    return client.post("/api/todos", json={"title": "t"}, headers={"Host": host, **headers})


async def test_a_foreign_host_is_refused_not_reflected(client: httpx.AsyncClient) -> None:
    response = await post(client, "evil.example")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:todoapp:problem:disallowed-host"
    assert "location" not in response.headers
    assert "evil" not in response.text
    assert (await client.get("/api/todos")).json() == []  # nothing was created


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:8000", "127.0.0.1:8000", "[::1]:8000"])
async def test_loopback_names_are_allowed_by_default(client: httpx.AsyncClient, host: str) -> None:
    response = await post(client, host)
    assert response.status_code == 201
    assert (
        response.headers["location"] == f"http://{host.lower()}/api/todos/{response.json()['id']}"
    )


async def test_probes_and_metrics_answer_any_host(client: httpx.AsyncClient) -> None:
    # A load balancer or Kubernetes calls them by IP address; they build no URLs.
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await client.get(path, headers={"Host": "10.1.2.3:8000"})).status_code == 200


async def test_allowed_hosts_the_configured_host_and_the_opt_out(
    settings: Settings, clean_db: object
) -> None:
    named = replace(settings, host="todo.internal", allowed_hosts=())
    async with app_client(named) as (_, client):
        assert (await post(client, "todo.internal:8000")).status_code == 201
        assert (await post(client, "evil.example")).status_code == 400
    listed = replace(settings, allowed_hosts=("todo.example.com",))
    async with app_client(listed) as (_, client):
        assert (await post(client, "todo.example.com")).status_code == 201
        assert (await post(client, "localhost")).status_code == 400  # a list replaces the default
    anything = replace(settings, allowed_hosts=("*",))
    async with app_client(anything) as (_, client):
        assert (await post(client, "evil.example")).status_code == 201


async def test_public_url_builds_every_absolute_url(settings: Settings, clean_db: object) -> None:
    public = replace(settings, public_url="https://todo.example.com")
    async with app_client(public) as (_, client):
        # What a proxy forwards: its own idea of the Host, plain HTTP.
        first = await post(client, "localhost:8000")
        await post(client, "todo.example.com")
        assert (
            first.headers["location"] == f"https://todo.example.com/api/todos/{first.json()['id']}"
        )
        assert first.json()["url"] == first.headers["location"]
        page = await client.get("/api/todos?limit=1", headers={"Host": "127.0.0.1"})
        assert page.headers["link"].startswith("<https://todo.example.com/api/todos?")
        assert (await post(client, "evil.example")).status_code == 400


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


async def test_forwarded_headers_only_from_trusted_proxies(
    settings: Settings, clean_db: object
) -> None:
    # The test client's address is 127.0.0.1.
    async with app_client(settings) as (_, client):
        untrusted = await post(client, "localhost", **FORWARDED)
        assert untrusted.headers["location"].startswith("http://localhost/")
    trusting = replace(settings, forwarded_allow_ips=("127.0.0.0/8",))
    async with app_client(trusting) as (_, client):
        trusted = await post(client, "localhost", **FORWARDED)
        assert trusted.headers["location"].startswith("https://localhost/")


@pytest.mark.parametrize(
    "url",
    [
        "todo.example.com",
        "ftp://todo.example.com",
        "https://todo.example.com/app",
        "https://u@x.io",
    ],
)
def test_public_url_must_be_an_origin(url: str) -> None:
    with pytest.raises(ValueError, match="PUBLIC_URL"):
        public_origin(url)
    assert public_origin("https://Todo.Example.com:8443/") == "https://todo.example.com:8443"
