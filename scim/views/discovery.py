"""Discovery endpoints (RFC 7644 §4): ServiceProviderConfig, ResourceTypes, Schemas, viewsets on the router; and the
endpoints we do not serve (Bulk, /Me, the root, unknown paths), plain views beside it, answered with SCIM errors
rather than HTML.

What ServiceProviderConfig advertises is derived from the handlers that exist (`implemented_features`), and a
test exercises each advertised feature, so the document cannot promise what the server does not do.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from .. import schemas as S
from ..conf import app_settings
from ..errors import NotFound, NotImplementedSCIM, SCIMError
from ..responses import SCIMResponse
from .base import SCIMView, SCIMViewSet
from .groups import GroupViewSet
from .parsing import list_response
from .reads import ResourceMixin
from .users import UserViewSet


class DiscoveryForbidden(SCIMError):
    status = 403


def implemented_features() -> dict[str, bool]:
    resources = (UserViewSet, GroupViewSet)
    return {
        "patch": all(hasattr(viewset, "partial_update") for viewset in resources),
        "bulk": False,  # no /Bulk handler (BulkView answers 501)
        "filter": all(hasattr(viewset, "search") for viewset in resources),
        "changePassword": False,  # passwords are never stored
        "sort": all(hasattr(viewset, "search") for viewset in resources),
        # ResourceMixin answers If-None-Match on GET; its writes check If-Match under the row lock.
        "etag": all(issubclass(viewset, ResourceMixin) for viewset in resources),
        "search": all(hasattr(viewset, "dot_search") for viewset in resources),
    }


class DiscoveryMixin:
    """What the discovery endpoints and the endpoints we do not serve share: no resource model (any one of the
    SCIM permissions reads them), and no filtering."""

    scim_model = None

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        # RFC 7644 §4: filtering discovery resources is not supported; 403 is the RFC's answer.
        if any(key.lower() == "filter" for key in request.query_params):
            raise DiscoveryForbidden("Filtering is not supported on discovery endpoints (RFC 7644 §4).")


class DiscoveryViewSet(DiscoveryMixin, SCIMViewSet):
    """A discovery endpoint on the router (RFC 7644 §4): read-only, so only `list` and `retrieve` are routed."""


class DiscoveryView(DiscoveryMixin, SCIMView):
    """A path outside the router that still answers as SCIM: /Bulk, /Me, the root and unknown paths."""


class ServiceProviderConfigViewSet(DiscoveryViewSet):
    """/ServiceProviderConfig (RFC 7644 §4, RFC 7643 §5): one document, not a ListResponse, served on the router's
    collection route."""

    def list(self, request: Request, realm_pk) -> SCIMResponse:
        features = implemented_features()
        document = {
            "schemas": [S.SERVICE_PROVIDER_CONFIG_URN],
            "patch": {"supported": features["patch"]},
            "bulk": {"supported": features["bulk"], "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": features["filter"], "maxResults": app_settings.MAX_COUNT},
            "changePassword": {"supported": features["changePassword"]},
            "sort": {"supported": features["sort"]},
            "etag": {"supported": features["etag"]},
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "Bearer token",
                    "description": "The API token of a service account: 'Authorization: Bearer <token>'.",
                    "primary": True,
                }
            ],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": self.location("ServiceProviderConfig"),
            },
        }
        return SCIMResponse(document)


class ResourceTypeViewSet(DiscoveryViewSet):
    """/ResourceTypes and /ResourceTypes/{name} (RFC 7644 §4, RFC 7643 §6): User and Group; the name is matched in
    any letter case."""

    lookup_url_kwarg = "resource_type"

    def list(self, request: Request, realm_pk) -> SCIMResponse:
        resources = [t.to_representation(self.location("ResourceTypes", t.id)) for t in S.RESOURCE_TYPES.values()]
        return SCIMResponse(list_response(resources, len(resources), 1))

    def retrieve(self, request: Request, realm_pk, resource_type: str) -> SCIMResponse:
        found = next((t for key, t in S.RESOURCE_TYPES.items() if key.lower() == resource_type.lower()), None)
        if found is None:
            raise NotFound(f"No resource type '{resource_type[:80]}'; this server has User and Group.")
        return SCIMResponse(found.to_representation(self.location("ResourceTypes", found.id)))


class SchemaViewSet(DiscoveryViewSet):
    """/Schemas and /Schemas/{urn} (RFC 7644 §4, RFC 7643 §7): every attribute with its characteristics, so an IdP
    can map its attributes without guessing."""

    lookup_url_kwarg = "urn"

    def list(self, request: Request, realm_pk) -> SCIMResponse:
        resources = [s.to_representation(self.location("Schemas", s.id)) for s in S.ALL_SCHEMAS.values()]
        return SCIMResponse(list_response(resources, len(resources), 1))

    def retrieve(self, request: Request, realm_pk, urn: str) -> SCIMResponse:
        schema = S.get_schema(urn)
        if schema is None:
            raise NotFound(f"No schema '{urn[:200]}' on this server.")
        return SCIMResponse(schema.to_representation(self.location("Schemas", schema.id)))


class BulkView(DiscoveryView):
    """RFC 7644 §3.7: not supported, and advertised as such; a 501 says so to a client that tries anyway."""

    def post(self, request: Request, realm_pk) -> SCIMResponse:
        raise NotImplementedSCIM("Bulk operations are not supported (see ServiceProviderConfig).")


class MeView(DiscoveryView):
    """RFC 7644 §3.11: /Me is the authenticated subject's own resource, and ours is a service account, not a realm
    user: a 501 for every method."""

    def get(self, request: Request, realm_pk) -> SCIMResponse:
        raise NotImplementedSCIM("/Me is not supported: API tokens belong to service accounts, not realm users.")

    post = put = patch = delete = get


class NotFoundView(DiscoveryView):
    """Any other path under the SCIM root: a SCIM 404, never an HTML page or a redirect."""

    def _not_found(self, request: Request, *args: Any, **kwargs: Any) -> SCIMResponse:
        raise NotFound(f"No SCIM endpoint at {request.path}; see /ServiceProviderConfig, /Users and /Groups.")

    get = post = put = patch = delete = _not_found


__all__ = [
    "BulkView",
    "MeView",
    "NotFoundView",
    "ResourceTypeViewSet",
    "SchemaViewSet",
    "ServiceProviderConfigViewSet",
    "implemented_features",
]
