"""URLs of the management API and the change feed, included by scim.urls under the host's `api/` prefix."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .events import RealmEventsView
from .schema import SchemaView
from .views import RealmViewSet, RoleMappingViewSet
from .views_accounts import ServiceAccountViewSet, TokenViewSet

# The management API (docs/api.md): realms by uuid or name, service accounts by username or id.
router = SimpleRouter()
router.register("realms", RealmViewSet, basename="api-realm")
router.register(r"realms/(?P<ref>[^/]+)/role-mappings", RoleMappingViewSet, basename="api-role-mapping")
router.register("service-accounts", ServiceAccountViewSet, basename="api-service-account")
router.register(r"service-accounts/(?P<account>[^/]+)/tokens", TokenViewSet, basename="api-token")

urlpatterns: list = [
    # The change feed (docs/api.md, "The change feed").
    path("realms/<uuid:realm_pk>/events/", RealmEventsView.as_view(), name="realm-events"),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    *router.urls,
]
