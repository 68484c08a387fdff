"""ETags and conditional requests (RFC 9110): If-None-Match → 304, If-Match → 412."""

from __future__ import annotations

from typing import Any

from quart import Response, request

from ..edge.problems import Problem


def etag(*parts: int | str) -> str:
    """A strong ETag from the resource's version (and, for lists, its live counts and the
    caller's role)."""
    return '"' + "-".join(str(p) for p in parts) + '"'


def if_match_versions() -> list[int] | None:
    """The versions If-Match accepts: None when the header is absent (or `*`), so the write
    is unconditional. Weak or unreadable tags never match (strong comparison)."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    versions = []
    for tag in header.split(","):
        tag = tag.strip()
        if tag.startswith('"') and tag.endswith('"'):
            version = tag[1:-1].split("-", 1)[0]
            if version.isdigit():
                versions.append(int(version))
    return versions


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
