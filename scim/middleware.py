"""Records each SCIM request in the request log (scim.models), so a realm's page shows whether Okta gets through.

Only paths under /api/realms/<uuid>/scim/ are looked at. Nothing of the request is read but its method and path,
and the caller as authenticated by the token (service account, token hint); the error detail recorded is the one
this server wrote in its own response. A failure to record never changes the response.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from .models import SCIMRequest, record_request

logger = logging.getLogger(__name__)


def _relative_path(rest: str) -> str:
    """The path under the SCIM root URL ("/Users/…"), as the Okta admin sees it next to the base URL."""
    if rest == "v2" or rest.startswith("v2/"):
        rest = rest[2:]
    return "/" + rest.lstrip("/")


SCIM_PATH = re.compile(
    r"^/api/realms/(?P<realm>[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})/scim/"
)


class SCIMRequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = SCIM_PATH.match(request.path_info)
        response = self.get_response(request)
        if match is not None:
            try:
                record_request(_describe(request, response, match))
            except DatabaseError:
                logger.warning("Could not record the SCIM request %s %s", request.method, request.path_info)
        return response


def _describe(request: HttpRequest, response: HttpResponse, match: re.Match) -> SCIMRequest:
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
        realm_id=uuid.UUID(match.group("realm")),
        method=request.method or "",
        path=_relative_path(request.path_info[match.end() :]),
        status=response.status_code,
        actor_username=username,
        token_hint=hint,
        scim_type=scim_type,
        detail=detail,
    )
