"""The SCIM request log in the realms console: the realm page's SCIM status panel and the realm's "SCIM requests"
page (every failed request with the error this server answered, scim.request_log keeps them).

Shown through realms.extensions (registered in scim.apps.ScimConfig.ready): `scim` depends on `realms`, never the
reverse. The page keeps its URL and name, `<realms include>/<uuid>/scim-requests/` and `realms:scim_requests`.
"""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

import django_filters
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import path
from django.utils import timezone
from django.views.generic import ListView

from realms.console import access
from realms.console.filters import DATETIME_WIDGET
from realms.console.views import FilteredListMixin, RealmChildMixin
from realms.datetimes import local
from realms.models import Realm

from .conf import app_settings
from .models import RealmSCIMStatus, SCIMRequestError

# Failed SCIM requests with their detail: the realm's "Latest errors" and its SCIM requests page, one rule for both
# (realms.console.access). A realm's status (last request, last success, how many errors) is the realm's:
# realms.view_realm.
REQUEST_LOG = ("realms.view_realm", "scim.view_scimrequesterror")
ERROR_WINDOW = datetime.timedelta(hours=24)
ERRORS_SHOWN = 5

STATUSES = [
    ("4xx", "Any 4xx"),
    ("5xx", "Any 5xx"),
    ("400", "400 Bad Request"),
    ("401", "401 Unauthorized"),
    ("403", "403 Forbidden"),
    ("404", "404 Not Found"),
    ("409", "409 Conflict"),
    ("412", "412 Precondition Failed"),
    ("413", "413 Payload Too Large"),
    ("429", "429 Too Many Requests"),
    ("500", "500 Server Error"),
    ("501", "501 Not Implemented"),
    ("503", "503 Unavailable"),
]
# What a path under the SCIM root URL is about (RFC 7644 §3.2's endpoints).
RESOURCES = {
    "Users": ("/Users",),
    "Groups": ("/Groups",),
    "discovery": ("/ServiceProviderConfig", "/ServiceProviderConfigs", "/ResourceTypes", "/Schemas"),
}


def _under(prefixes: tuple[str, ...]) -> Q:
    condition = Q()
    for prefix in prefixes:
        condition |= Q(path=prefix) | Q(path__startswith=f"{prefix}/")
    return condition


class SCIMRequestFilter(django_filters.FilterSet):
    """The failed SCIM requests of one realm (scim.models.SCIMRequestError), newest first."""

    status = django_filters.ChoiceFilter(
        choices=STATUSES, method="filter_status", empty_label="Any status", label="Status"
    )
    method = django_filters.ChoiceFilter(
        choices=[(m, m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE")], empty_label="Any method", label="Method"
    )
    resource = django_filters.ChoiceFilter(
        choices=[("Users", "Users"), ("Groups", "Groups"), ("discovery", "Discovery"), ("other", "Other paths")],
        method="filter_resource",
        empty_label="Any resource",
        label="Resource",
    )
    scim = django_filters.ChoiceFilter(
        choices=[("off", "SCIM was off"), ("on", "SCIM was on")],
        method="filter_scim",
        empty_label="SCIM on or off",
        label="Realm's SCIM",
    )
    since = django_filters.DateTimeFilter(
        field_name="created_at", lookup_expr="gte", widget=DATETIME_WIDGET, label="From"
    )
    until = django_filters.DateTimeFilter(
        field_name="created_at", lookup_expr="lt", widget=DATETIME_WIDGET, label="Until"
    )

    class Meta:
        model = SCIMRequestError
        fields: list[str] = []

    def filter_status(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        if value in {"4xx", "5xx"}:
            low = int(value[0]) * 100
            return qs.filter(status__gte=low, status__lt=low + 100)
        return qs.filter(status=int(value))

    def filter_resource(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        if value == "other":
            known = Q()
            for prefixes in RESOURCES.values():
                known |= _under(prefixes)
            return qs.exclude(known)
        return qs.filter(_under(RESOURCES[value]))

    def filter_scim(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(scim_enabled=(value == "on"))


def request_status(realm: Realm, *, with_errors: bool = True) -> dict[str, Any]:
    """The realm's last SCIM request, its last successful one, how many failed in the last 24 hours, and (for who
    may read the request log, `with_errors`) the latest of them.

    A realm whose SCIM is off while its token is still used (Okta still calling, answered 404) is counted apart:
    the realm's page warns about it."""
    since = timezone.now() - ERROR_WINDOW
    errors = SCIMRequestError.objects.filter(realm=realm, created_at__gte=since)
    status: dict[str, Any] = {
        "scim_status": RealmSCIMStatus.objects.filter(realm=realm).first(),
        "scim_errors_24h": errors.count(),
        "scim_errors_24h_query": urlencode({"since": local(since).strftime("%Y-%m-%dT%H:%M")}),
        "scim_recent_errors": list(errors.order_by("-created_at", "-id")[:ERRORS_SHOWN]) if with_errors else [],
        "scim_off_calls": None,
    }
    if not realm.scim_enabled and status["scim_errors_24h"]:
        off = errors.filter(scim_enabled=False).order_by("-created_at", "-id")
        latest = off.first()
        if latest is not None:
            status["scim_off_calls"] = {"count": off.count(), "latest": latest}
    return status


realm_panel_template = "scim/console/realm_panel.html"


def realm_panel_context(request: HttpRequest, realm: Realm) -> dict[str, Any]:
    """The realm page's SCIM status panel (scim/console/realm_panel.html)."""
    may_view_request_log = access.may_view(request.user, REQUEST_LOG)
    return {"may_view_request_log": may_view_request_log, **request_status(realm, with_errors=may_view_request_log)}


class SCIMRequestListView(FilteredListMixin, RealmChildMixin, ListView):
    """Every SCIM request to the realm that failed, for the whole retention period: what Okta's failed
    provisioning tasks could not say (the error detail and scimType this server answered, who called, when)."""

    permission_required = REQUEST_LOG
    template_name = "scim/console/requests.html"
    paginate_by = 50

    def get_queryset(self):
        queryset = SCIMRequestError.objects.filter(realm=self.realm).order_by("-created_at", "-id")
        return self.filtered(SCIMRequestFilter(self.request.GET or None, queryset=queryset))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["retention_days"] = app_settings.REQUEST_ERROR_RETENTION_DAYS
        return context

    def get_breadcrumbs(self):
        return [*self.realm_breadcrumbs(), ("SCIM requests", None)]


# Served under the realms include, in its namespace: realms:scim_requests.
realm_urlpatterns = [
    path("scim-requests/", SCIMRequestListView.as_view(), name="scim_requests"),
]
