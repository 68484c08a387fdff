"""Data access: plain async functions over the request's unit of work (`db.Work`: a
connection and the actor it runs for), one module per table.

Writes are single statements where possible (UPDATE ... RETURNING and friends), so a
concurrent client's change to another field is never overwritten by a stale read.
"""

from collections.abc import Mapping
from typing import Any

Row = Mapping[str, Any]
