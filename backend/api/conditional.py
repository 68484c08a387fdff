"""ETags and conditional requests (RFC 9110): If-None-Match → 304, If-Match → 412."""

from __future__ import annotations

import re
from typing import Any

from quart import Response, request

from ..domain.schemas import INT_MAX
from ..edge.problems import Problem

# A version as this API writes it in an ETag: ASCII digits, no sign, no leading zero.
_VERSION = re.compile(r"[1-9][0-9]{0,9}")


def etag(*parts: int | str) -> str:
    """A strong ETag from the resource's version (and, for lists, its live counts and the
    caller's role)."""
    return '"' + "-".join(str(p) for p in parts) + '"'


def if_match_versions() -> list[int] | None:
    """The versions If-Match accepts: None when the header is absent (or `*`), so the write
    is unconditional.

    Only tags this API could have sent can match (strong comparison, RFC 9110): a quoted
    version in ASCII digits without leading zeros, within the version column's range. Any
    other tag (weak, unquoted, "²" or "٣", "2147483648", 5,000 digits) names no version, so it
    never matches and the answer is 412, and it never reaches the database."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for tag in header.split(","):
        tag = tag.strip()
        if len(tag) >= 2 and tag.startswith('"') and tag.endswith('"'):
            version = parse_version(tag[1:-1].split("-", 1)[0])
            if version is not None:
                versions.add(version)
    return sorted(versions)


def parse_version(text: str) -> int | None:
    if _VERSION.fullmatch(text) is None:
        return None
    value = int(text)  # at most 10 ASCII digits: cheap and safe
    return value if value <= INT_MAX else None


def not_modified(tag: str) -> Response | None:
    """304 if If-None-Match names the current ETag (weak comparison, as the RFC says)."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return None
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    if "*" in tags or tag in tags:
        return Response(status=304, headers={"ETag": tag})
    return None


def precondition_failed(current: dict[str, Any], tag: str) -> Problem:
    return Problem(
        412,
        "precondition-failed",
        "The resource changed since you read it (If-Match did not match); "
        "the current version is in `current`.",
        headers={"ETag": tag},
        extra={"current": current},
    )
