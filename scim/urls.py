"""SCIM 2.0 endpoints: a host includes these under "api/" (docs/embedding.md), which gives each realm the root URL
<base>/api/realms/<realm uuid>/scim/v2, and /api/whoami to check a token.

Every path answers with or without a trailing slash and never redirects (Okta follows no redirect on POST).
"""

from django.urls import include, path, re_path

from . import views
from .views.whoami import WhoAmIView

app_name = "scim"

scim_patterns = [
    re_path(r"^v2/?$", views.NotFoundView.as_view(), name="root"),
    re_path(r"^v2/ServiceProviderConfigs?/?$", views.ServiceProviderConfigView.as_view(), name="spc"),
    re_path(r"^v2/ResourceTypes/?$", views.ResourceTypesView.as_view(), name="resource_types"),
    re_path(r"^v2/ResourceTypes/(?P<resource_type>[^/]+)/?$", views.ResourceTypesView.as_view()),
    re_path(r"^v2/Schemas/?$", views.SchemasView.as_view(), name="schemas"),
    re_path(r"^v2/Schemas/(?P<urn>[^/]+)/?$", views.SchemasView.as_view()),
    re_path(r"^v2/Users/?$", views.UserListView.as_view(), name="users"),
    re_path(r"^v2/Users/\.search/?$", views.UserSearchView.as_view(), name="users_search"),
    re_path(r"^v2/Users/(?P<resource_id>[^/]+)/?$", views.UserDetailView.as_view(), name="user"),
    re_path(r"^v2/Groups/?$", views.GroupListView.as_view(), name="groups"),
    re_path(r"^v2/Groups/\.search/?$", views.GroupSearchView.as_view(), name="groups_search"),
    re_path(r"^v2/Groups/(?P<resource_id>[^/]+)/?$", views.GroupDetailView.as_view(), name="group"),
    re_path(r"^v2/Bulk/?$", views.BulkView.as_view(), name="bulk"),
    re_path(r"^v2/Me/?$", views.MeView.as_view(), name="me"),
    re_path(r"^v2/.*$", views.NotFoundView.as_view()),
]

urlpatterns = [
    path("whoami", WhoAmIView.as_view(), name="whoami"),
    path("realms/<uuid:realm_pk>/scim/", include(scim_patterns)),
]
