"""The URLconf of a host whose log-out view is django-allauth's: named `account_logout` under `accounts/`, as in a
cookiecutter-django project, and no Django admin (so the admin's log-out cannot stand in for it).

Django's own LogoutView plays allauth's part here: both log out on a POST (allauth's asks for confirmation on a GET).
"""

from django.contrib.auth.views import LoginView, LogoutView
from django.urls import include, path

urlpatterns = [
    path("accounts/login/", LoginView.as_view(), name="account_login"),
    path("accounts/logout/", LogoutView.as_view(), name="account_logout"),
    path("realms/", include("realms.urls")),
    path("api/", include("scim.urls")),
]
