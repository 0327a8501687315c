"""The path of every SCIM call, in the order it runs (SCIMView; the viewsets of users.py, groups.py, discovery.py
and root.py add only their handlers):

1. **Parse the headers, authenticate, authorise** (`SCIMView.initial`): the body's declared size (413), the API
   token read with its realm, its permissions and, when the URL names one row, that row, in one statement
   (scim.authentication, realms.sql.token_query; 401), the rate limit (scim.throttling; 429), the permission the HTTP
   method needs (scim.permissions; 403), the realm of the URL with SCIM on and the token's realm restriction
   (404), the method (405), an empty body (400), the URL's ids, query parameters and headers (parsing.py; 400).
2. **Parse the request**: list parameters and filters (parsing.py, scim.filters), bodies (scim.negotiation: JSON
   parsers; scim.resources: normalised against the schemas into realms' UserData/GroupData), PATCH operations
   (scim.patch), ETags (etags.py).
3. **Apply**: reads (reads.py: one resource or a page, paging.py), writes through realms.services (one transaction
   that locks the row, or one compare-and-swap statement for Okta's PUT), which record the audit event.
4. **Render**: the resource (scim.resources, attribute selection in scim.selection) or the ListResponse, as a
   scim.responses.SCIMResponse; any error, raised anywhere above, by scim.errors.scim_exception_handler (RFC 7644
   §3.12); then `finalize_response` records the call in the request log (scim.request_log).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpResponseBase
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.request import Request
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSetMixin

from realms import urls_helpers
from realms.models import Realm
from realms.services import Actor
from realms.sql import queries

from .. import request_log
from ..authentication import SCIMTokenAuthentication
from ..conf import app_settings
from ..errors import InvalidSyntax, NotFound, PayloadTooLarge, scim_exception_handler
from ..negotiation import PlainJSONParser, SCIMContentNegotiation, SCIMJSONParser, SCIMRenderer
from ..permissions import SCIMPermission
from ..throttling import TokenRateThrottle
from .parsing import check_url_and_headers

NO_REALM = "No realm with SCIM enabled at this URL: check the SCIM connector base URL."


class SCIMView(APIView):
    authentication_classes = [SCIMTokenAuthentication]
    permission_classes = [SCIMPermission]
    renderer_classes = [SCIMRenderer]
    parser_classes = [SCIMJSONParser, PlainJSONParser]
    content_negotiation_class = SCIMContentNegotiation
    throttle_classes = [TokenRateThrottle]
    # SCIM has no API versions of DRF's kind: a host's DEFAULT_VERSIONING_CLASS with ALLOWED_VERSIONS would refuse
    # every request of Okta, which sends none (406).
    versioning_class = None
    scim_model: str | None = None  # "realmuser" / "realmgroup"; None for discovery
    is_search = False

    realm: Realm

    def get_exception_handler(self):
        return scim_exception_handler

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        realm_pk = kwargs.get("realm_pk")
        if isinstance(realm_pk, uuid.UUID):
            # The Django request (DRF's documented `request._request`): it carries `auth` only once a token was
            # authenticated, so recording never triggers authentication itself.
            request_log.record(request._request, response, realm_pk)
        return response

    def initial(self, request: Request, *args, **kwargs) -> None:
        # What the call will read, when its URL alone says so: the token's statement reads it too (one round trip
        # fewer), and it is used only once the token and the permission have been checked.
        request.scim_read = self.read_with_token(request, kwargs)
        super().initial(request, *args, **kwargs)  # authentication (401), permissions (403)
        self._check_body_size(request)
        realm = getattr(request.successful_authenticator, "realm", None)  # read with the token
        if realm is None:
            raise NotFound(NO_REALM)
        self.realm = realm
        token_realm = getattr(request.auth, "realm_id", None)
        if token_realm is not None and token_realm != realm.pk:
            # A token restricted to another realm learns nothing about this one, not even that it exists.
            raise NotFound(NO_REALM)
        if not self._handles(request.method):
            # Before the body is looked at: a method this endpoint does not serve is a 405 with its Allow header
            # (RFC 7231 §6.5.5), body or not; DRF itself would only find out after `initial`.
            raise MethodNotAllowed(request.method or "")
        if request.method in {"POST", "PUT", "PATCH"} and not self._has_body(request):
            raise InvalidSyntax("The request body is empty; a JSON object was expected.")
        check_url_and_headers(request, kwargs)
        self.root_url = urls_helpers.scim_root_url(realm.pk, request)

    def read_with_token(self, request: Request, url_kwargs: dict[str, Any]) -> queries.Read | None:
        """The realm user or group this call will read, if its URL says which before anything is checked; None
        here (see ResourceMixin)."""
        return None

    def _handles(self, method: str | None) -> bool:
        """Whether this view has a handler for `method` (on a viewset: an action the router mapped it to), as DRF's
        dispatch decides it."""
        name = (method or "").lower()
        return name in self.http_method_names and hasattr(self, name)

    @staticmethod
    def _content_length(request: Request) -> int | None:
        """The declared body length; None when the header is not a number."""
        try:
            return int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None

    def _check_body_size(self, request: Request) -> None:
        limit = app_settings.MAX_BODY_BYTES
        length = self._content_length(request) or 0
        if length > limit:
            raise PayloadTooLarge(f"The request body is {length} bytes; the limit is {limit} bytes.")

    def _has_body(self, request: Request) -> bool:
        length = self._content_length(request)
        return length is None or length > 0 or "HTTP_TRANSFER_ENCODING" in request.META

    def actor(self) -> Actor:
        token = self.request.auth
        return Actor(user=self.request.user, token_hint=getattr(token, "hint", ""))

    def location(self, endpoint: str, resource_id: Any = None) -> str:
        return f"{self.root_url}/{endpoint}" + (f"/{resource_id}" if resource_id is not None else "")


class SCIMViewSet(ViewSetMixin, SCIMView):
    """A SCIM endpoint registered on `scim.routers.SCIMRouter`: its handlers are named after the actions the router
    maps HTTP methods to (list, create, retrieve, update, partial_update, destroy; RFC 7644 §3.2), and everything
    else (authentication, the realm, permissions, errors, the request log) is SCIMView's."""

    # The router matches an id up to the next slash, dots included (DRF's default stops at a dot): URNs have dots
    # (/Schemas/urn:…:core:2.0:User), and an id that is not one of ours gets the resource's own 404, not the
    # catch-all's.
    lookup_value_regex = "[^/]+"
