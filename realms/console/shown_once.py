"""A secret shown once, on the page a POST redirects to, and never written to the database or a log.

Issuing an API token is a POST; answering it with the secret itself would make a reload ask to POST again and mint
a second token. So the POST answers with a redirect, and the secret crosses that redirect split in two halves that
are worthless alone: a random one-time pad in a cookie restricted to the page that shows the secret, and the secret
XORed with that pad in the session (which a host may well keep in its database). The page takes both out on its
first display; a reload finds neither, and says so.
"""

from __future__ import annotations

import base64
import secrets
import time

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

SESSION_KEY = "realms_shown_once"
COOKIE_PREFIX = "realms_once_"
LIFETIME = 300  # seconds between the POST and the page that shows the secret


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return b""


def _xor(data: bytes, pad: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, pad, strict=True))


def hand_over(request: HttpRequest, response: HttpResponse, name: str, secret: str, path: str) -> None:
    """Leave `secret` for the page at `path` to show once (`response` is the redirect to it)."""
    data = secret.encode("utf-8")
    pad = secrets.token_bytes(len(data))
    now = time.time()
    pending = {
        key: value
        for key, value in dict(request.session.get(SESSION_KEY) or {}).items()
        if isinstance(value, list) and len(value) == 2 and now - value[1] < LIFETIME  # forget abandoned ones
    }
    pending[name] = [_encode(_xor(data, pad)), now]
    request.session[SESSION_KEY] = pending
    response.set_cookie(
        COOKIE_PREFIX + name,
        _encode(pad),
        max_age=LIFETIME,
        path=path,
        secure=request.is_secure(),
        httponly=True,
        samesite="Strict",
    )
    add_never_cache_headers(response)


def take(request: HttpRequest, name: str) -> str | None:
    """The secret left for this page, once: None when it was already shown, expired, or left for someone else."""
    pending = dict(request.session.get(SESSION_KEY) or {})
    entry = pending.pop(name, None)
    if entry is not None:
        request.session[SESSION_KEY] = pending
    pad = _decode(request.COOKIES.get(COOKIE_PREFIX + name, ""))
    if not (isinstance(entry, list) and len(entry) == 2) or time.time() - entry[1] >= LIFETIME:
        return None
    sealed = _decode(entry[0])
    if not pad or len(pad) != len(sealed):
        return None
    try:
        return _xor(sealed, pad).decode("utf-8")
    except UnicodeDecodeError:
        return None


def close(response: HttpResponse, name: str, path: str) -> HttpResponse:
    """The page that shows (or no longer shows) the secret: its cookie half goes, and nothing keeps a copy."""
    response.delete_cookie(COOKIE_PREFIX + name, path=path, samesite="Strict")
    add_never_cache_headers(response)
    return response
