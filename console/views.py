"""Project-level views: the console home and the health check."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
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
