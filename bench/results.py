"""Where the benchmarks keep what they measured: bench/results/<kind>-<UTC time>.json
(git-ignored), one file a run."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def save(kind: str, data: Any) -> Path:
    """Write `data` as JSON, say where, and return the file's path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{kind}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(data, indent=1))
    print(f"wrote {out}")
    return out
