"""The URLconf of a host that embeds the apps and has nothing else: the two includes and Django's admin.

Tests that set `ROOT_URLCONF` to it see what a `django-admin startproject` host sees: none of the reference
console's URL names (home, login, logout) exist.
"""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("realms/", include("realms.urls")),
    path("api/", include("scim.urls")),
]
