"""A host with nothing but the embedding contract's two includes and the admin: no home, login or logout URL."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("realms/", include("realms.urls")),
    path("api/", include("scim.urls")),
    path("admin/", admin.site.urls),
]
