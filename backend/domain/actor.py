"""Who is asking: the actor every unit of work runs for.

Every query receives the actor through the unit of work (``db.Work``), and the data layer
scopes what it reads and writes by it (``data/scope.py``). The auth layer at the edge
(``edge/auth.py``) decides who the actor of a request is and leaves it here; routes and
queries never take a user as a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

from quart import g, has_request_context

# The implicit user of AUTH=off: a real row (id 0, no username) that owns what it creates.
IMPLICIT_USER_ID = 0


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int = IMPLICIT_USER_ID

    @property
    def key(self) -> str:
        """A stable text for scoping per-actor state (idempotency keys, advisory locks)."""
        return "implicit" if self.user_id == IMPLICIT_USER_ID else f"user:{self.user_id}"


IMPLICIT = Actor()
# Who the auth layer's own queries (credential lookups, sign-in) run as: no user has this
# id, so the data scopes (data/scope.py) give it nothing.
NOBODY = Actor(user_id=-1)


def current() -> Actor:
    """The actor of the current request, as the auth layer set it (the implicit user when
    accounts are off). Fails closed: a request nobody authenticated has no actor, and a
    unit of work without one is a bug, not a licence to act as somebody."""
    actor = g.get("actor") if has_request_context() else None
    if actor is None:
        raise LookupError("no authenticated actor for this unit of work")
    return actor
