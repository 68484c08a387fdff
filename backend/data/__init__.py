"""Data access: plain async functions over the request's session, one module per table.

Writes are single statements where possible (UPDATE ... RETURNING and friends), so a
concurrent client's change to another field is never overwritten by a stale read.
"""

from collections.abc import Mapping
from typing import Any

Row = Mapping[str, Any]
