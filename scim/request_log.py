"""Records each SCIM request in the request log (scim.models), so a realm's page shows whether Okta gets through.

Called by every SCIM view as it finalizes its response (scim.views.base.SCIMView), wherever the host mounted the
URLs: no middleware to install. Nothing of the request is read but its method, path and (for a failed request) its
query string with secrets redacted, and the caller as authenticated by the token (service account, token hint); the
error detail recorded is the one this server wrote in its own response. A failure to record never changes the
response.
"""

from __future__ import annotations

import logging
import re
import uuid
from urllib.parse import parse_qsl

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from realms import urls_helpers

from .models import SCIMRequest, record_request, status_due

logger = logging.getLogger(__name__)


def record(request: HttpRequest, response: HttpResponse, realm_pk: uuid.UUID) -> None:
    """Record the response to a SCIM request under the realm `realm_pk` of its URL.

    A success whose realm's status row is not due (most of them: it is rewritten every few seconds) records
    nothing, so it is not even described."""
    now = timezone.now()
    if response.status_code < 400 and not status_due(realm_pk, SCIMRequest.SUCCESS, now):
        return
    try:
        record_request(_describe(request, response, realm_pk), now)
    except DatabaseError:
        logger.warning("Could not record the SCIM request %s %s", request.method, request.path_info)


# What no database column can hold: NUL (PostgreSQL) and lone surrogates (not UTF-8). A path such as /Users/%00
# is refused with a 400, and that refusal is recorded like any other: with U+FFFD in their place.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(text: str) -> str:
    return _UNSTORABLE.sub("\ufffd", text)


REDACTED = "[redacted]"
# Parameters whose value is a secret whatever it looks like (a client that puts its token in the URL, say).
_SECRET_NAMES = re.compile(r"token|secret|passw|pwd|key|auth|bearer|session|signature|sig$|code$", re.IGNORECASE)
# Anything shaped like an API token of ours, a bearer credential, or a JWT, wherever it appears in a value.
_SECRET_VALUES = re.compile(
    r"zrlm_[0-9A-Za-z]+|(?i:bearer)\s+\S+|eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]*"
)
# A filter comparing the password attribute (RFC 7643 §4.1.1: never returned, but a client may still send one).
_PASSWORD_COMPARISON = re.compile(r'(password\s+[a-z]{2}\s+)"(?:[^"\\]|\\.)*"', re.IGNORECASE)


def redacted_query(query_string: str) -> str:
    """The query string, decoded for reading (`filter=userName eq "x"`), with what could be a secret replaced by
    [redacted]: the values of parameters named like a secret (token, password, key…), anything shaped like an API
    token, a bearer credential or a JWT, and the value a filter compares `password` with. docs/okta-scim.md says so
    to the admin."""
    if not query_string:
        return ""
    parts = []
    for name, value in parse_qsl(query_string, keep_blank_values=True, errors="replace"):
        if _SECRET_NAMES.search(name):
            value = REDACTED
        else:
            value = _PASSWORD_COMPARISON.sub(lambda m: f'{m.group(1)}"{REDACTED}"', value)
            value = _SECRET_VALUES.sub(REDACTED, value)
        name = _SECRET_VALUES.sub(REDACTED, name)
        parts.append(f"{name}={value}")
    return _storable("&".join(parts))


def redacted_text(text: str) -> str:
    """An error detail that echoes what the client sent (a refused filter, say), without what could be a secret."""
    text = _PASSWORD_COMPARISON.sub(lambda m: f'{m.group(1)}"{REDACTED}"', text)
    return _SECRET_VALUES.sub(REDACTED, text)


def _relative_path(request: HttpRequest, realm_pk: uuid.UUID) -> str:
    """The path under the SCIM root URL ("/Users/…"), as the Okta admin sees it next to the base URL."""
    root = urls_helpers.scim_root_path(realm_pk)
    path = request.path
    rest = path[len(root) :] if path.startswith(root) else path
    return "/" + rest.lstrip("/")


def _describe(request: HttpRequest, response: HttpResponse, realm_pk: uuid.UUID) -> SCIMRequest:
    # DRF puts the authenticated token on the Django request (request.auth) after authentication.
    token = getattr(request, "auth", None)
    hint = getattr(token, "hint", "") or ""
    username = ""
    if hint and getattr(token, "user", None) is not None:
        username = token.user.get_username()
    data = getattr(response, "data", None)
    detail = scim_type = query = ""
    if response.status_code >= 400:
        query = redacted_query(request.META.get("QUERY_STRING", ""))
        if isinstance(data, dict):
            detail = redacted_text(str(data.get("detail") or ""))
            scim_type = str(data.get("scimType") or "")
    return SCIMRequest(
        realm_id=realm_pk,
        method=request.method or "",
        path=_storable(_relative_path(request, realm_pk)),
        status=response.status_code,
        query=query,
        actor_username=username,
        token_hint=hint,
        scim_type=scim_type,
        detail=_storable(detail),
    )
