"""Who is asking: the actor every unit of work runs for.

Every query receives the actor through the unit of work (``db.Work``), and the data layer
scopes what it reads and writes by it (``data/scope.py``). Today there is one implicit
user; accounts change where the actor comes from (``current()``) and what ``scope`` makes
of it, not the routes or the queries' signatures.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    # None: the single implicit user of an install without accounts; it owns everything.
    user_id: int | None = None

    @property
    def key(self) -> str:
        """A stable text for scoping per-actor state (idempotency keys, rate limits)."""
        return "implicit" if self.user_id is None else f"user:{self.user_id}"


IMPLICIT = Actor()


def current() -> Actor:
    """The actor of the current request."""
    return IMPLICIT
