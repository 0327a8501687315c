from django.contrib import admin
from django.urls import include, path

from realms.console.saml import ConsoleLoginView

from . import views
from .forms import ConsoleAuthenticationForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "login/",
        ConsoleLoginView.as_view(
            template_name="console/login.html",
            authentication_form=ConsoleAuthenticationForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("favicon.ico", views.favicon, name="favicon"),
    # The embedding contract: the two includes any host adds (docs/embedding.md).
    path("realms/", include("realms.urls")),
    path("api/", include("scim.urls")),
    path("admin/", admin.site.urls),
]
