"""When the trash is emptied: now and then, after a DELETE (as expired Idempotency-Keys are).

What stays in the trash past its time is invisible and cannot be restored whenever the purge
runs (data/trash.py checks the time), so the purge is housekeeping: about one DELETE in
PURGE_ONE_IN runs it, in a statement of its own after the DELETE's, which keeps the DELETE
itself one statement and costs the other requests nothing.
"""

from __future__ import annotations

import random

from ..data import db
from ..data import trash as store

PURGE_ONE_IN = 100


async def now_and_then() -> None:
    if random.randrange(PURGE_ONE_IN) == 0:
        async with db.transaction() as work:
            await store.purge(work)
