"""ETags (RFC 7644 §3.14): a resource's version as a weak tag, If-Match before a write, If-None-Match on a read."""

from __future__ import annotations

import re

from django.http import HttpRequest

from ..errors import PreconditionFailed
from ..responses import SCIMResponse

_ETAG_RE = re.compile(r'\s*(?:W/)?"?([0-9]{1,18})"?\s*')

# The conditional headers' keys in `request.META` (Django's HTTP_ names): read without building `request.headers`.
IF_MATCH = "HTTP_IF_MATCH"
IF_NONE_MATCH = "HTTP_IF_NONE_MATCH"


def _versions(header: str) -> set[int] | None:
    """The versions an If-Match/If-None-Match header names; None for '*'. Unparsable tags match nothing."""
    if header.strip() == "*":
        return None
    versions = set()
    for part in header.split(","):
        match = _ETAG_RE.fullmatch(part)
        if match:
            versions.add(int(match.group(1)))
    return versions


def if_match_version(request: HttpRequest, current: int) -> int | None:
    """Check If-Match before a write; return the version the write must still find (checked under lock)."""
    header = request.META.get(IF_MATCH)
    if header is None:
        return None
    versions = _versions(header)
    if versions is None:
        return None
    if current not in versions:
        raise PreconditionFailed(f'If-Match does not match the current version W/"{current}".')
    return current


def if_match_holds(request: HttpRequest, current: int) -> bool:
    """Whether a write may go on at version `current`: no If-Match, `*`, or a tag of that version."""
    header = request.META.get(IF_MATCH)
    if header is None:
        return True
    versions = _versions(header)
    return versions is None or current in versions


def not_modified(request: HttpRequest, current: int) -> bool:
    header = request.META.get(IF_NONE_MATCH)
    if header is None:
        return False
    versions = _versions(header)
    return versions is None or current in versions


def with_etag(response: SCIMResponse, version: int) -> SCIMResponse:
    response["ETag"] = f'W/"{version}"'
    return response
