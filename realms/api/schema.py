"""The OpenAPI 3 document of the management API (and the change feed) only, at `<base>/api/schema/`.

Produced by drf-spectacular (docs/architecture.md says why) from the host's own URLs, so the paths carry the host's
prefix, keeping only the views of this package: SCIM has its own discovery (RFC 7644 §4). Nothing is asked of the
host: no DEFAULT_SCHEMA_CLASS (each view declares its AutoSchema), no SPECTACULAR_SETTINGS (ours are passed to the
view), no INSTALLED_APPS entry.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.generators import EndpointEnumerator, SchemaGenerator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.views import SpectacularAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny

API_PACKAGE = "realms.api."

SETTINGS = {
    "TITLE": "Realms management API",
    "DESCRIPTION": (
        "Realms, role mappings, service accounts and API tokens, as configuration as code, and each realm's change "
        "feed. Authenticate with an API token (`Authorization: Bearer <token>`); each call needs the Django model "
        "permission of its method (docs/api.md)."
    ),
    "VERSION": "1",
    "COMPONENT_SPLIT_REQUEST": True,
}


class APITokenScheme(OpenApiAuthenticationExtension):
    target_class = "realms.authentication.APITokenAuthentication"
    name = "apiToken"
    match_subclasses = True

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token of a service account (realms_…), issued by the console, the admin, "
            "create_service_account or this API.",
        }


def documented(view: Any) -> bool:
    """A view of this package that carries drf-spectacular's AutoSchema (one that would fall back on the host's
    DEFAULT_SCHEMA_CLASS is left out rather than failing the whole document; tests/api/test_schema.py lists it)."""
    return view.__module__.startswith(API_PACKAGE) and isinstance(getattr(view, "schema", None), AutoSchema)


class ManagementEndpoints(EndpointEnumerator):
    def should_include_endpoint(self, path: str, callback: Any) -> bool:
        view = getattr(callback, "cls", None)
        return view is not None and documented(view) and super().should_include_endpoint(path, callback)


class ManagementSchemaGenerator(SchemaGenerator):
    endpoint_inspector_cls = ManagementEndpoints


class SchemaView(SpectacularAPIView):
    """The document is public, as the package's source is: it holds no data, only the API's shape."""

    generator_class = ManagementSchemaGenerator
    custom_settings = SETTINGS
    authentication_classes: list = []
    permission_classes = [AllowAny]
    # JSON by default and for `Accept: application/json` (what curl and most tools ask for); YAML on request.
    renderer_classes = [OpenApiJsonRenderer, OpenApiJsonRenderer2, OpenApiYamlRenderer, OpenApiYamlRenderer2]
    parser_classes: list = []
    content_negotiation_class = DefaultContentNegotiation
    throttle_classes: list = []
    versioning_class = None
    schema = None  # not in its own document
