"""SCIM 2.0 endpoints: a host includes these under "api/" (docs/embedding.md), which gives each realm the root URL
<base>/api/realms/<realm uuid>/scim/v2, and /api/whoami to check a token.

The resources and discovery endpoints are viewsets on a router (RFC 7644 §3.2's endpoint table); the paths the
router does not serve still answer as SCIM: POST /.search at the root searches across types (RFC 7644 §3.4.3),
/Bulk and /Me are a 501, the root and any other path a SCIM 404. Every path answers with or without a trailing
slash and never redirects (Okta follows no redirect on POST).
"""

from django.urls import include, path, re_path

from .routers import SCIMRouter
from .views import (
    BulkView,
    GroupViewSet,
    MeView,
    NotFoundView,
    ResourceTypeViewSet,
    RootSearchView,
    SchemaViewSet,
    ServiceProviderConfigViewSet,
    UserViewSet,
)
from .views.whoami import WhoAmIView

app_name = "scim"

router = SCIMRouter()
router.register("Users", UserViewSet, basename="users")
router.register("Groups", GroupViewSet, basename="groups")
# The plural is SCIM 1.1's name for it: an alias for clients that still use it.
router.register("ServiceProviderConfigs?", ServiceProviderConfigViewSet, basename="service-provider-config")
router.register("ResourceTypes", ResourceTypeViewSet, basename="resource-types")
router.register("Schemas", SchemaViewSet, basename="schemas")

scim_patterns = [
    re_path(r"^v2/?$", NotFoundView.as_view(), name="root"),
    # RFC 7644 §3.4.3: a search across resource types, at the root.
    re_path(r"^v2/\.search/?$", RootSearchView.as_view(), name="search"),
    re_path(r"^v2/", include(router.urls)),
    re_path(r"^v2/Bulk/?$", BulkView.as_view(), name="bulk"),
    re_path(r"^v2/Me/?$", MeView.as_view(), name="me"),
    re_path(r"^v2/.*$", NotFoundView.as_view()),
]

urlpatterns = [
    path("whoami", WhoAmIView.as_view(), name="whoami"),
    path("realms/<uuid:realm_pk>/scim/", include(scim_patterns)),
    # The management API and the change feed (realms.api): under the same include, no third one for the host.
    path("", include("realms.api.urls")),
]
