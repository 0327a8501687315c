"""Media types of the SCIM API (RFC 7644 §3.1 and §8.1): application/scim+json, and application/json too.

Okta sends `application/scim+json; charset=utf-8` but its own test suite posts `application/json`; both parse.
Responses are always `application/scim+json`, whatever the Accept header says: a SCIM client that asks for
something else still gets a body it can read, rather than a 406.
"""

from __future__ import annotations

import json
import math

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import BaseRenderer

from .errors import InvalidSyntax, InvalidValue
from .responses import MEDIA_TYPE, render_json


class SCIMRenderer(BaseRenderer):
    """What DRF renders a `Response` of a SCIM view with (its own OPTIONS answer): as a SCIMResponse's body. The views
    and the error handler answer with scim.responses.SCIMResponse, rendered as it is created."""

    media_type = MEDIA_TYPE
    format = "scim"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return render_json(data)


class SCIMJSONParser(JSONParser):
    media_type = MEDIA_TYPE

    def parse(self, stream, media_type=None, parser_context=None):
        """Strict JSON (no NaN or Infinity), a clear detail on errors, and no 500 on absurdly deep nesting."""
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", "utf-8")
        try:
            raw = stream.read() if stream is not None else b""
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            raise InvalidSyntax(f"The request body is not valid {encoding} text.") from None
        if not text.strip():
            raise InvalidSyntax("The request body is empty; a JSON object was expected.")
        try:
            data = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
        except RecursionError:
            raise InvalidSyntax("The request body is nested too deeply.") from None
        except ValueError as exc:
            raise InvalidSyntax(f"The request body is not valid JSON: {exc}.") from None
        if "\\u" in text:
            # Only an escape can put a NUL or a lone surrogate in a string: strict JSON refuses a raw control
            # character, and decoding the body refused what is not text. Bodies without one are not walked.
            check_storable(data)
        return data


_TOO_LARGE = "The request body contains a number too large to represent."


def unstorable(text: str) -> str | None:
    """What in `text` no database can store or search for, or None: a NUL character (PostgreSQL's text and jsonb
    refuse it) or a lone UTF-16 surrogate (not text at all: UTF-8 cannot encode it). Said as a detail would say it,
    without repeating the character."""
    if "\x00" in text:
        return "a NUL character (U+0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone UTF-16 surrogate, which is not valid text"
    return None


def check_storable(data) -> None:
    """Refuse what no database can store (RFC 7644 §3.12 invalidValue): NUL characters and lone UTF-16 surrogates
    (valid JSON escapes, such as "\\u0000" and "\\ud800", that decode to strings PostgreSQL and UTF-8 reject),
    in keys and values alike (a number too large for a float is refused as the body parses: `_finite_float`).
    Walks iteratively: depth is no concern."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                _check_text(key)
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


def _check_text(text: str) -> None:
    reason = unstorable(text)
    if reason is not None:
        raise InvalidValue(f"The request body contains {reason}, which cannot be stored.")


class PlainJSONParser(SCIMJSONParser):
    media_type = "application/json"


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: a valid JSON number that no float holds
        raise InvalidSyntax(_TOO_LARGE)
    return value


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class SCIMContentNegotiation(BaseContentNegotiation):
    def select_parser(self, request, parsers):
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        for parser in parsers:
            if parser.media_type == content_type:
                return parser
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type
