from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.api import WhoAmIView
from accounts.forms import ConsoleAuthenticationForm
from realms.views_saml import ConsoleLoginView

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "login/",
        ConsoleLoginView.as_view(
            template_name="login.html",
            authentication_form=ConsoleAuthenticationForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("accounts.urls")),
    path("realms/", include("realms.urls")),
    path("api/whoami", WhoAmIView.as_view(), name="api_whoami"),
    path("api/realms/<uuid:realm_pk>/scim/", include("scim.urls")),
    path("admin/", admin.site.urls),
]
