"""Records each SCIM request in the request log (scim.models), so a realm's page shows whether Okta gets through.

Called by every SCIM view as it finalizes its response (scim.views.base.SCIMView), wherever the host mounted the
URLs: no middleware to install. Nothing of the request is read but its method and path, and the caller as
authenticated by the token (service account, token hint); the error detail recorded is the one this server wrote
in its own response. A failure to record never changes the response.
"""

from __future__ import annotations

import logging
import re
import uuid

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from realms import urls_helpers

from .models import SCIMRequest, record_request

logger = logging.getLogger(__name__)


def record(request: HttpRequest, response: HttpResponse, realm_pk: uuid.UUID) -> None:
    """Record the response to a SCIM request under the realm `realm_pk` of its URL."""
    try:
        record_request(_describe(request, response, realm_pk))
    except DatabaseError:
        logger.warning("Could not record the SCIM request %s %s", request.method, request.path_info)


# What no database column can hold: NUL (PostgreSQL) and lone surrogates (not UTF-8). A path such as /Users/%00
# is refused with a 400, and that refusal is recorded like any other: with U+FFFD in their place.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(text: str) -> str:
    return _UNSTORABLE.sub("\ufffd", text)


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
    detail = scim_type = ""
    if response.status_code >= 400 and isinstance(data, dict):
        detail = str(data.get("detail") or "")
        scim_type = str(data.get("scimType") or "")
    return SCIMRequest(
        realm_id=realm_pk,
        method=request.method or "",
        path=_storable(_relative_path(request, realm_pk)),
        status=response.status_code,
        actor_username=username,
        token_hint=hint,
        scim_type=scim_type,
        detail=_storable(detail),
    )
