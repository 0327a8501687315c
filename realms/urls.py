from django.urls import path

from . import views

app_name = "realms"

urlpatterns = [
    path("", views.RealmListView.as_view(), name="list"),
    path("create/", views.RealmCreateView.as_view(), name="create"),
    path("<uuid:pk>/", views.RealmDetailView.as_view(), name="detail"),
    path("<uuid:pk>/update/", views.RealmUpdateView.as_view(), name="update"),
    path("<uuid:pk>/users/", views.RealmUserListView.as_view(), name="users"),
    path("<uuid:pk>/users/<uuid:user_pk>/", views.RealmUserDetailView.as_view(), name="user"),
    path("<uuid:pk>/groups/", views.RealmGroupListView.as_view(), name="groups"),
    path("<uuid:pk>/groups/<uuid:group_pk>/", views.RealmGroupDetailView.as_view(), name="group"),
    path("<uuid:pk>/saml/metadata/", views.saml_metadata, name="saml_metadata"),
    path("<uuid:pk>/saml/acs/", views.saml_acs, name="saml_acs"),
]
