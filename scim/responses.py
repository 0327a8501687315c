"""The response of every SCIM call: a JSON body of media type application/scim+json (RFC 7644 §3.1, §8.1), or none.

SCIM has one media type and answers in it whatever the Accept header says (scim.negotiation), so there is nothing
to negotiate at render time: `SCIMResponse` is a Django `HttpResponse` whose body is rendered when it is created,
where DRF's `Response` would go through its renderer after the view returns (content negotiation's outcome, the
renderer's context, a template response rendered by Django's handler). In one process that saves 15 to 30 µs of a
call (docs/performance-history.md). The body is the same bytes DRF's JSONRenderer wrote with its defaults, whatever a
host's REST_FRAMEWORK settings say: compact separators, UTF-8 rather than \\u escapes, no NaN or Infinity, and
U+2028 and U+2029 escaped.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from rest_framework.utils.encoders import JSONEncoder

MEDIA_TYPE = "application/scim+json"


def render_json(data: Any) -> bytes:
    """`data` as the body of a SCIM response (b"" for None: no body)."""
    if data is None:
        return b""
    text = json.dumps(data, cls=JSONEncoder, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    # What DRF's JSONRenderer does too: JSON that is also a strict subset of JavaScript.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


class SCIMResponse(HttpResponse):
    """A SCIM resource, ListResponse or error (`data`, kept as `.data` like DRF's Response, for the request log),
    or no body at all (`data` None: a 204 or a 304, sent without a Content-Type)."""

    def __init__(self, data: Any = None, status: int | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(render_json(data), status=status, headers=headers, content_type=MEDIA_TYPE)
        if data is None:
            del self["Content-Type"]
        self.data = data
