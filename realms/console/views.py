"""Console pages for realms, and the realm's SAML service provider endpoints."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import django_filters
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from .. import extensions, saml, urls_helpers
from ..models import AuditEvent, Realm, RealmGroup, RealmGroupMembership, RealmUser, ServiceAccount
from ..saml import sp_metadata_xml
from ..services.setup import realm_tokens
from . import access, shown_once
from . import okta as views_okta
from .activity import attach_changes, involving, with_changes_text
from .filters import GroupMemberFilter, RealmGroupFilter, RealmUserFilter, folded_ordering
from .forms import RealmForm
from .mixins import ConsoleMixin


class RealmConsoleMixin(ConsoleMixin):
    section = "realms"


class RealmChildMixin(RealmConsoleMixin):
    """Pages under one realm: the realm is loaded once, a 404 when it does not exist."""

    def dispatch(self, request: HttpRequest, *args, **kwargs):
        self.realm = get_object_or_404(Realm, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["realm"] = self.realm
        return context

    def realm_breadcrumbs(self) -> list[tuple[str, str | None]]:
        return [
            ("Realms", reverse("realms:list")),
            (self.realm.name, reverse("realms:detail", args=[self.realm.pk])),
        ]


class FilteredListMixin:
    """A list narrowed by a django-filter FilterSet; invalid filter values show their error and list nothing."""

    filterset: django_filters.FilterSet

    def filtered(self, filterset: django_filters.FilterSet):
        self.filterset = filterset
        if filterset.is_bound and not filterset.is_valid():
            return filterset.queryset.none()
        return filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["filtered"] = any(value for key, value in self.request.GET.items() if key not in {"page", "o"})
        return context


def _count_subquery(queryset) -> Coalesce:
    """A correlated COUNT per row: the realm list never joins users to groups (no users-by-groups row explosion)."""
    counted = queryset.order_by().values("realm").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


class RealmListView(RealmConsoleMixin, ListView):
    permission_required = "realms.view_realm"
    template_name = "realms/realm_list.html"
    paginate_by = 50

    def get_queryset(self):
        return Realm.objects.annotate(
            user_count=_count_subquery(RealmUser.objects.filter(realm=OuterRef("pk"))),
            group_count=_count_subquery(RealmGroup.objects.filter(realm=OuterRef("pk"))),
        ).order_by("name", "pk")

    def get_breadcrumbs(self):
        return [("Realms", None)]


class RealmCreateView(RealmConsoleMixin, CreateView):
    permission_required = "realms.add_realm"
    template_name = "realms/realm_form.html"
    form_class = RealmForm

    def form_valid(self, form: RealmForm) -> HttpResponse:
        realm = form.save()
        messages.success(self.request, f"Realm {realm.name} created.")
        return redirect("realms:detail", pk=realm.pk)

    def get_breadcrumbs(self):
        return [("Realms", reverse("realms:list")), ("Create", None)]


class RealmUpdateView(RealmConsoleMixin, UpdateView):
    permission_required = "realms.change_realm"
    template_name = "realms/realm_form.html"
    form_class = RealmForm
    model = Realm

    def form_valid(self, form: RealmForm) -> HttpResponse:
        # One transaction: turning login off revokes the realm's roles and sessions as the realm is saved.
        with transaction.atomic():
            realm = form.save()
        messages.success(self.request, f"Realm {realm.name} saved.")
        return redirect("realms:detail", pk=realm.pk)

    def get_breadcrumbs(self):
        return [
            ("Realms", reverse("realms:list")),
            (self.object.name, reverse("realms:detail", args=[self.object.pk])),
            ("Edit", None),
        ]


class RealmDetailView(RealmConsoleMixin, DetailView):
    permission_required = "realms.view_realm"
    template_name = "realms/realm_detail.html"
    model = Realm
    context_object_name = "realm"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.object = self.get_object()
        self.okta_issued = views_okta.issued_connection(request, self.object)
        response = self.render_to_response(self.get_context_data(object=self.object))
        if self.okta_issued is not None:
            # The page that shows the token: nothing keeps a copy of it, and a reload no longer shows it.
            shown_once.close(response, views_okta.handover_name(self.object), views_okta.realm_page_path(self.object))
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        realm = self.object
        request = self.request
        if realm.scim_enabled:
            context["scim_root_url"] = root_url = urls_helpers.scim_root_url(realm.pk, request)
            context["scim_root_url_problem"] = urls_helpers.unreachable_reason(root_url)
            context["okta_fields"] = views_okta.okta_fields(root_url)
        context["okta_issued"] = self.okta_issued
        context["okta_missing_permissions"] = views_okta.missing_connect_permissions(request.user, realm)
        context["may_view_tokens"] = access.may_view(request.user, access.API_TOKENS)
        tokens = list(realm_tokens(realm)[:6])
        context["okta_has_tokens"] = bool(tokens)
        context["okta_tokens"], context["okta_more_tokens"] = tokens[:5], len(tokens) > 5
        context["okta_account"] = ServiceAccount.objects.filter(realm=realm).select_related("user").first()
        context["retire_after_choices"] = views_okta.RETIRE_AFTER_CHOICES
        context["retire_after_default"] = views_okta.RETIRE_AFTER_DEFAULT
        context["saml_metadata_url"] = urls_helpers.saml_metadata_url(realm.pk, request)
        context["saml_entity_id"] = context["saml_metadata_url"]
        context["saml_acs_url"] = urls_helpers.saml_acs_url(realm.pk, request)
        context["xmlsec1_missing"] = saml.xmlsec_binary() is None
        context["counts"] = RealmUser.objects.filter(realm=realm).aggregate(
            users=Count("pk"), active=Count("pk", filter=Q(active=True))
        )
        context["counts"]["groups"] = RealmGroup.objects.filter(realm=realm).count()
        # What other apps show here (realms.extensions): the SCIM request log's status, from scim.console.
        context["realm_panels"], panel_context = extensions.realm_panels(request, realm)
        context.update(panel_context)
        return context

    def get_breadcrumbs(self):
        return [("Realms", reverse("realms:list")), (self.object.name, None)]


class RealmUserListView(FilteredListMixin, RealmChildMixin, ListView):
    permission_required = "realms.view_realmuser"
    template_name = "realms/realmuser_list.html"
    paginate_by = 50

    def get_queryset(self):
        queryset = RealmUser.objects.filter(realm=self.realm).prefetch_related("emails")
        queryset = queryset.order_by(*folded_ordering("username"), "id")
        return self.filtered(RealmUserFilter(self.request.GET or None, queryset=queryset, realm=self.realm))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for user in context["object_list"]:
            emails = list(user.emails.all())  # prefetched for the page
            user.primary_email = next((e.value for e in emails if e.primary), emails[0].value if emails else "")
        return context

    def get_breadcrumbs(self):
        return [*self.realm_breadcrumbs(), ("Users", None)]


ENTERPRISE_USER_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
HISTORY_SHOWN = 20
USER_GROUPS_SHOWN = 100


@dataclass
class AttributeRow:
    name: str
    value: str
    block: bool  # a complex value, shown as indented JSON


@dataclass
class AttributeSection:
    title: str
    urn: str
    rows: list[AttributeRow]


def _attribute_row(name: str, value: Any) -> AttributeRow:
    if isinstance(value, (dict, list)):
        return AttributeRow(name, json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False), True)
    if isinstance(value, bool):
        return AttributeRow(name, "true" if value else "false", False)
    return AttributeRow(name, "null" if value is None else str(value), False)


def attribute_sections(attributes: Any) -> list[AttributeSection]:
    """Every attribute the IdP sent, grouped as the schemas group them: core, enterprise extension, other URNs."""
    if not isinstance(attributes, dict):
        return []
    core = [_attribute_row(k, v) for k, v in sorted(attributes.items()) if not k.lower().startswith("urn:")]
    sections = [AttributeSection("Core attributes", "urn:ietf:params:scim:schemas:core:2.0", core)] if core else []
    extensions = sorted(
        ((k, v) for k, v in attributes.items() if k.lower().startswith("urn:")),
        key=lambda kv: (kv[0].lower() != ENTERPRISE_USER_URN.lower(), kv[0]),
    )
    for urn, value in extensions:
        title = "Enterprise extension" if urn.lower() == ENTERPRISE_USER_URN.lower() else "Extension"
        rows = (
            [_attribute_row(k, v) for k, v in sorted(value.items())]
            if isinstance(value, dict)
            else [_attribute_row(urn, value)]
        )
        sections.append(AttributeSection(title, urn, rows))
    return sections


def resource_history(realm: Realm, resource_id: Any, *, since: datetime.datetime | None = None) -> dict:
    """The latest audit events of a user or group; a user's include the group membership changes that added or
    removed it (`since`: when it was created, none before)."""
    events = AuditEvent.objects.filter(realm=realm).select_related("realm", "actor__realms_service_account")
    if since is None:
        events = events.filter(resource_id=str(resource_id))
    else:
        events = with_changes_text(events).filter(involving(resource_id, since))
    return {
        "history": attach_changes(events.order_by("-created_at", "-id")[:HISTORY_SHOWN], focus_id=resource_id),
        "history_count": events.count(),
        "history_url": f"{reverse('realms:activity')}?{urlencode({'realm': realm.pk, 'resource': resource_id})}",
    }


def admin_change_url(obj: Any) -> str | None:
    """The Django admin page of `obj` (the host's user model, say), or None when the host's admin has none."""
    if obj is None:
        return None
    try:
        return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return None


def linked_console_user(realm_user: RealmUser):
    """The console user this realm user signs in as (SAML sign-in links them), or None."""
    try:
        link = realm_user.console_link
    except (AttributeError, ObjectDoesNotExist):
        return None
    return getattr(link, "console_user", None)


class RealmUserDetailView(RealmChildMixin, DetailView):
    permission_required = "realms.view_realmuser"
    template_name = "realms/realmuser_detail.html"
    context_object_name = "realm_user"
    pk_url_kwarg = "user_pk"

    def get_queryset(self):
        return RealmUser.objects.filter(realm=self.realm).prefetch_related("emails")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        realm_user = self.object
        groups = RealmGroup.objects.filter(memberships__user=realm_user).order_by("display_name", "id")
        context["groups"] = list(groups[:USER_GROUPS_SHOWN])
        context["group_count"] = (
            len(context["groups"]) if len(context["groups"]) < USER_GROUPS_SHOWN else groups.count()
        )
        context["attribute_sections"] = attribute_sections(realm_user.attributes)
        context["attributes_json"] = json.dumps(realm_user.attributes, indent=2, sort_keys=True, ensure_ascii=False)
        console_user = context["console_user"] = linked_console_user(realm_user)
        context["console_user_admin_url"] = admin_change_url(console_user) if self.request.user.is_staff else None
        context["may_view_history"] = access.may_view(self.request.user, access.AUDIT_TRAIL)
        if context["may_view_history"]:
            context.update(resource_history(self.realm, realm_user.pk, since=realm_user.created_at))
        return context

    def get_breadcrumbs(self):
        return [
            *self.realm_breadcrumbs(),
            ("Users", reverse("realms:users", args=[self.realm.pk])),
            (self.object.username, None),
        ]


class RealmGroupListView(FilteredListMixin, RealmChildMixin, ListView):
    permission_required = "realms.view_realmgroup"
    template_name = "realms/realmgroup_list.html"
    paginate_by = 50

    def get_queryset(self):
        queryset = RealmGroup.objects.filter(realm=self.realm).order_by(*folded_ordering("display_name"), "id")
        return self.filtered(RealmGroupFilter(self.request.GET or None, queryset=queryset))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Member counts for this page's groups only: one grouped query on the (group, user) index.
        groups = list(context["object_list"])
        counts = dict(
            RealmGroupMembership.objects.filter(group_id__in=[g.pk for g in groups])
            .order_by()
            .values("group_id")
            .annotate(n=Count("pk"))
            .values_list("group_id", "n")
        )
        for group in groups:
            group.member_count = counts.get(group.pk, 0)
        context["groups"] = groups
        return context

    def get_breadcrumbs(self):
        return [*self.realm_breadcrumbs(), ("Groups", None)]


class RealmGroupDetailView(RealmChildMixin, DetailView):
    """A group and one page of its members: members are paged, counted and searched in the database."""

    permission_required = "realms.view_realmgroup"
    template_name = "realms/realmgroup_detail.html"
    context_object_name = "group"
    pk_url_kwarg = "group_pk"
    members_per_page = 100

    def get_queryset(self):
        return RealmGroup.objects.filter(realm=self.realm)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        group = self.object
        members = RealmUser.objects.filter(memberships__group=group).order_by(*folded_ordering("username"), "id")
        member_filter = GroupMemberFilter(self.request.GET or None, queryset=members)
        paginator = Paginator(member_filter.qs, self.members_per_page)
        context["filter"] = member_filter
        context["q"] = self.request.GET.get("q", "").strip()
        context["page_obj"] = paginator.get_page(self.request.GET.get("page"))
        context["member_count"] = (
            RealmGroupMembership.objects.filter(group=group).count() if context["q"] else paginator.count
        )
        context["attributes_json"] = json.dumps(group.attributes, indent=2, sort_keys=True, ensure_ascii=False)
        context["may_view_history"] = access.may_view(self.request.user, access.AUDIT_TRAIL)
        if context["may_view_history"]:
            context.update(resource_history(self.realm, group.pk))
        return context

    def get_breadcrumbs(self):
        return [
            *self.realm_breadcrumbs(),
            ("Groups", reverse("realms:groups", args=[self.realm.pk])),
            (self.object.display_name, None),
        ]


@login_not_required  # fetched by the IdP's admin or tooling, never by a signed-in user
@require_GET
def saml_metadata(request: HttpRequest, pk) -> HttpResponse:
    """The SP metadata of the realm, for the Okta SAML app (public, like any SAML SP metadata).

    A browser (an admin following the link on the realm's page) gets it as XML it shows, not as a file to download
    (browsers save application/samlmetadata+xml); tools get the registered SAML metadata type."""
    realm = get_object_or_404(Realm, pk=pk)
    accept = request.headers.get("Accept", "")
    content_type = "application/xml; charset=utf-8" if "text/html" in accept else "application/samlmetadata+xml"
    response = HttpResponse(sp_metadata_xml(realm, request), content_type=content_type)
    patch_vary_headers(response, ["Accept"])
    return response
