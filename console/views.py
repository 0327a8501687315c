"""Project-level views: the console home, logout, the favicon and the health check."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from realms.models import Realm


@login_required
def home(request: HttpRequest) -> HttpResponse:
    realms = Realm.objects.all() if request.user.has_perm("realms.view_realm") else Realm.objects.none()
    return render(request, "console/home.html", {"realms": realms, "section": "home"})


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Load-balancer health check: 200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


class LogoutView(auth_views.LogoutView):
    """Logout is a POST (Django's); a GET (a bookmarked /logout/) asks to confirm instead of answering 405, and the
    login page it leads to says that the user is logged out."""

    http_method_names = ["get", "post", "options"]
    template_name = "console/logout_confirm.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponseRedirect(self.get_success_url())
        return render(request, self.template_name, {"section": ""})

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        was_logged_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_logged_in:  # after the session is flushed: the message rides in its own cookie
            messages.success(request, "You are logged out.")
        return response


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the Django admin's): the console's, not a 404."""
    return HttpResponseRedirect(static("realms/favicon.png"))
