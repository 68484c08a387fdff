"""Which events a stream may send: those of the lists its actor may see (data/scope.py owns
that rule; this module only remembers its answer).

The answer is shared by all streams of one actor in the worker and asked again after an
event that can change it (a list created or deleted, a membership change), once for all of
them. A list the actor no longer sees still gets the event that took it away (its deletion,
the end of a membership), so the client can drop it; its later events are not sent. Without
accounts every list is visible and no question is ever asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from ..data.events import Position, Stored

# Kinds after which the visible lists may differ: asked again before deciding.
RESCOPING = ("list.created", "list.deleted", "membership.")
# Kinds a client needs even for a list it has just lost.
PARTING = ("list.deleted", "membership.")

Loader = Callable[[], Awaitable[set[int] | None]]


class Visibility:
    """What one actor may see: list ids, or None for every list."""

    def __init__(self, ids: set[int] | None, as_of: Position) -> None:
        self.ids = ids
        self.gone: set[int] = set()  # lists seen once and since taken away
        self.as_of = as_of  # the ids are as of this event, or later
        self.streams = 0
        self._lock = asyncio.Lock()

    async def allows(self, event: Stored, load: Loader) -> bool:
        if self.ids is None:
            return True
        if event.kind.startswith(RESCOPING) and event.position > self.as_of:
            await self._reload(event, load)
        if event.list_id in self.ids:
            return True
        return event.kind.startswith(PARTING) and event.list_id in self.gone

    async def _reload(self, event: Stored, load: Loader) -> None:
        async with self._lock:  # one query for all streams of the actor
            if event.position <= self.as_of:
                return
            ids = await load()
            if self.ids is not None and ids is not None:
                self.gone |= self.ids - ids
            self.ids, self.as_of = ids, event.position


class Scopes:
    """The worker's Visibility per actor key, kept while the actor has a stream open."""

    def __init__(self) -> None:
        self._by_actor: dict[str, Visibility] = {}

    async def enter(self, actor_key: str, load: Loader, as_of: Position) -> Visibility:
        """The actor's Visibility, loaded now if this is their first stream here; `as_of`
        is the feed's position before the load."""
        scope = self._by_actor.get(actor_key)
        if scope is None:
            scope = Visibility(await load(), as_of)
            scope = self._by_actor.setdefault(actor_key, scope)  # another stream won the race
        scope.streams += 1
        return scope

    def leave(self, actor_key: str, scope: Visibility) -> None:
        scope.streams -= 1
        if scope.streams == 0 and self._by_actor.get(actor_key) is scope:
            del self._by_actor[actor_key]
