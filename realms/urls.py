from django.urls import include, path

from . import extensions
from .console import accounts as views_accounts
from .console import activity as views_activity
from .console import okta as views_okta
from .console import roles as views_roles
from .console import saml as views_saml
from .console import views

app_name = "realms"

urlpatterns = [
    path("", views.RealmListView.as_view(), name="list"),
    path("create/", views.RealmCreateView.as_view(), name="create"),
    path("activity/", views_activity.SCIMActivityView.as_view(), name="activity"),
    path("<uuid:pk>/", views.RealmDetailView.as_view(), name="detail"),
    path("<uuid:pk>/update/", views.RealmUpdateView.as_view(), name="update"),
    path("<uuid:pk>/connect-okta/", views_okta.ConnectOktaView.as_view(), name="connect_okta"),
    path("<uuid:pk>/users/", views.RealmUserListView.as_view(), name="users"),
    path("<uuid:pk>/users/<uuid:user_pk>/", views.RealmUserDetailView.as_view(), name="user"),
    path("<uuid:pk>/groups/", views.RealmGroupListView.as_view(), name="groups"),
    path("<uuid:pk>/groups/<uuid:group_pk>/", views.RealmGroupDetailView.as_view(), name="group"),
    path("<uuid:pk>/saml/metadata/", views.saml_metadata, name="saml_metadata"),
    path("<uuid:pk>/saml/acs/", views_saml.saml_acs, name="saml_acs"),
    path("<uuid:pk>/saml/login/", views_saml.saml_login_view, name="saml_login"),
    path("<uuid:pk>/roles/", views_roles.RoleMappingListView.as_view(), name="role_mappings"),
    path("<uuid:pk>/roles/add/", views_roles.RoleMappingCreateView.as_view(), name="role_mapping_add"),
    path("<uuid:pk>/roles/realm-viewer/", views_roles.RealmViewerRoleView.as_view(), name="realm_viewer_role"),
    path("service-accounts/", views_accounts.ServiceAccountListView.as_view(), name="service_accounts"),
    path(
        "service-accounts/create/",
        views_accounts.ServiceAccountCreateView.as_view(),
        name="create_service_account",
    ),
    path("service-accounts/<int:pk>/", views_accounts.ServiceAccountDetailView.as_view(), name="service_account"),
    path(
        "service-accounts/<int:pk>/tokens/create/",
        views_accounts.TokenCreateView.as_view(),
        name="create_token",
    ),
    path("tokens/<int:pk>/issued/", views_accounts.TokenIssuedView.as_view(), name="token_issued"),
    path("tokens/<int:pk>/revoke/", views_accounts.TokenRevokeView.as_view(), name="revoke_token"),
    path(
        "<uuid:pk>/roles/<int:mapping_pk>/delete/",
        views_roles.RoleMappingDeleteView.as_view(),
        name="role_mapping_delete",
    ),
]

# Pages other apps add under a realm (realms.extensions): the SCIM requests page (realms:scim_requests) from scim.
urlpatterns += [path("<uuid:pk>/", include(extensions.realm_urlpatterns()))]
