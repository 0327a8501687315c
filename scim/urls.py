"""SCIM 2.0 endpoints under /api/realms/<realm uuid>/scim/v2 (every path with or without a trailing slash)."""

from django.urls import re_path

from . import views

app_name = "scim"

urlpatterns = [
    re_path(r"^v2/?$", views.root, name="root"),
]
