"""SCIM 2.0 endpoints: a host includes these under "api/" (docs/embedding.md), which gives each realm the root URL
<base>/api/realms/<realm uuid>/scim/v2, and /api/whoami to check a token.

Every path answers with or without a trailing slash and never redirects (Okta follows no redirect on POST).
"""

from django.urls import include, path, re_path

from . import views
from .routers import SCIMRouter
from .views.whoami import WhoAmIView

app_name = "scim"

router = SCIMRouter()
router.register("Users", views.UserViewSet, basename="users")
router.register("Groups", views.GroupViewSet, basename="groups")

scim_patterns = [
    re_path(r"^v2/?$", views.NotFoundView.as_view(), name="root"),
    re_path(r"^v2/ServiceProviderConfigs?/?$", views.ServiceProviderConfigView.as_view(), name="spc"),
    re_path(r"^v2/ResourceTypes/?$", views.ResourceTypesView.as_view(), name="resource_types"),
    re_path(r"^v2/ResourceTypes/(?P<resource_type>[^/]+)/?$", views.ResourceTypesView.as_view()),
    re_path(r"^v2/Schemas/?$", views.SchemasView.as_view(), name="schemas"),
    re_path(r"^v2/Schemas/(?P<urn>[^/]+)/?$", views.SchemasView.as_view()),
    re_path(r"^v2/", include(router.urls)),
    re_path(r"^v2/Bulk/?$", views.BulkView.as_view(), name="bulk"),
    re_path(r"^v2/Me/?$", views.MeView.as_view(), name="me"),
    re_path(r"^v2/.*$", views.NotFoundView.as_view()),
]

urlpatterns = [
    path("whoami", WhoAmIView.as_view(), name="whoami"),
    path("realms/<uuid:realm_pk>/scim/", include(scim_patterns)),
]
