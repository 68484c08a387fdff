"""A realistic mixed workload for Locust: each simulated user owns a list and browses, pages,
searches, creates, toggles, edits and deletes todos in it, with think time between actions.

    pip install -e '.[load]'
    locust -f loadtests/locustfile.py --headless -H http://127.0.0.1:8000 \
        -u 50 -r 10 -t 60s --csv bench/results/locust

Environment: LOCUST_THINK (max seconds between a user's actions, default 2; 0 for a
throughput test), LOCUST_SEED_TODOS (todos each user starts with, default 20),
TODOAPP_TOKEN (an access token of the account to load, for AUTH=on).

It uses `?q=` search, the `Link: rel="next"` cursor pages and ETag/If-Match.
"""

from __future__ import annotations

import os
import random
import uuid
from typing import Any

from locust import HttpUser, between, constant, task

THINK = float(os.environ.get("LOCUST_THINK", "2"))
SEED_TODOS = int(os.environ.get("LOCUST_SEED_TODOS", "20"))
WORDS = ["milk", "report", "call", "gym", "book", "tickets", "garden", "invoice", "bug", "plan"]


class TodoUser(HttpUser):
    wait_time = between(THINK / 4, THINK) if THINK > 0 else constant(0)

    def on_start(self) -> None:
        if os.environ.get("TODOAPP_TOKEN"):
            self.client.headers["Authorization"] = f"Bearer {os.environ['TODOAPP_TOKEN']}"
        self.todos: dict[int, str | None] = {}  # id -> ETag if the server sends one
        name = f"locust-{uuid.uuid4().hex[:12]}"
        with self.client.post(
            "/api/lists", json={"name": name}, name="/api/lists", catch_response=True
        ) as r:
            if r.status_code != 201:
                r.failure(f"cannot create a list: {r.status_code}")
                self.list_id = None
                return
            self.list_id = r.json()["id"]
        for _ in range(SEED_TODOS):
            self.create()

    def on_stop(self) -> None:
        if self.list_id is not None:
            self.client.delete(f"/api/lists/{self.list_id}", name="/api/lists/[id]")

    def _title(self) -> str:
        return f"{random.choice(WORDS)} {random.choice(WORDS)} {random.randint(1, 999)}"

    def _remember(self, response: Any) -> None:
        body = response.json()
        self.todos[body["id"]] = response.headers.get("ETag")

    def _pick(self) -> int | None:
        return random.choice(list(self.todos)) if self.todos else None

    @task(3)
    def browse_lists(self) -> None:
        self.client.get("/api/lists", name="/api/lists")

    @task(5)
    def page_through_todos(self) -> None:
        """The list's first page, then up to two more if the server pages with Link."""
        url: str | None = f"/api/todos?list_id={self.list_id}&limit=20"
        name = "/api/todos?list_id=[id]"
        for _ in range(3):
            if url is None:
                break
            r = self.client.get(url, name=name)
            url = r.links.get("next", {}).get("url") if r.ok else None
            name = "/api/todos?cursor=[next]"

    @task(4)
    def read_one(self) -> None:
        todo_id = self._pick()
        if todo_id is not None:
            self.client.get(f"/api/todos/{todo_id}", name="/api/todos/[id]")

    @task(2)
    def search(self) -> None:
        # Before full-text search exists the parameter is ignored (200 with the list):
        # either way a 2xx is success, a 4xx means "not supported" and is not held against it.
        with self.client.get(
            f"/api/todos?q={random.choice(WORDS)}&limit=20",
            name="/api/todos?q=[word]",
            catch_response=True,
        ) as r:
            if r.ok or r.status_code in (400, 422):
                r.success()

    @task(3)
    def create(self) -> None:
        if self.list_id is None:
            return
        r = self.client.post(
            "/api/todos", json={"title": self._title(), "list_id": self.list_id}, name="/api/todos"
        )
        if r.status_code == 201:
            self._remember(r)

    def _patch(self, changes: dict[str, Any], name: str) -> None:
        todo_id = self._pick()
        if todo_id is None:
            return
        etag = self.todos.get(todo_id)
        headers = {"If-Match": etag} if etag else {}
        with self.client.patch(
            f"/api/todos/{todo_id}", json=changes, headers=headers, name=name, catch_response=True
        ) as r:
            if r.status_code == 200:
                self._remember(r)
            elif r.status_code == 412:  # our copy was stale: refresh it, not a server fault
                self.todos[todo_id] = None
                r.success()

    @task(3)
    def toggle(self) -> None:
        self._patch({"completed": random.random() < 0.5}, "/api/todos/[id] toggle")

    @task(1)
    def edit(self) -> None:
        self._patch({"title": self._title()}, "/api/todos/[id] edit")

    @task(1)
    def delete(self) -> None:
        todo_id = self._pick()
        if todo_id is not None and len(self.todos) > 5:
            r = self.client.delete(f"/api/todos/{todo_id}", name="/api/todos/[id]")
            if r.status_code == 204:
                del self.todos[todo_id]
