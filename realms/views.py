"""Console pages for realms, and the realm's SAML service provider endpoints."""

from __future__ import annotations

import json

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from accounts.views import ConsoleMixin

from . import urls_helpers
from .forms import RealmForm
from .models import Realm, RealmGroup, RealmUser
from .saml import sp_metadata_xml


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


class RealmListView(RealmConsoleMixin, ListView):
    permission_required = "realms.view_realm"
    template_name = "realms/realm_list.html"

    def get_queryset(self):
        return Realm.objects.annotate(
            user_count=Count("users", distinct=True), group_count=Count("groups", distinct=True)
        ).order_by("name")

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

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        realm = self.object
        request = self.request
        if realm.scim_enabled:
            context["scim_root_url"] = urls_helpers.scim_root_url(realm.pk, request)
        context["saml_metadata_url"] = urls_helpers.saml_metadata_url(realm.pk, request)
        context["saml_entity_id"] = context["saml_metadata_url"]
        context["saml_acs_url"] = urls_helpers.saml_acs_url(realm.pk, request)
        context["counts"] = RealmUser.objects.filter(realm=realm).aggregate(
            users=Count("pk"), active=Count("pk", filter=Q(active=True))
        )
        context["counts"]["groups"] = RealmGroup.objects.filter(realm=realm).count()
        return context

    def get_breadcrumbs(self):
        return [("Realms", reverse("realms:list")), (self.object.name, None)]


class RealmUserListView(RealmChildMixin, ListView):
    permission_required = "realms.view_realmuser"
    template_name = "realms/realmuser_list.html"
    paginate_by = 50

    def get_queryset(self):
        qs = RealmUser.objects.filter(realm=self.realm).order_by("username", "id")
        self.q = self.request.GET.get("q", "").strip()
        if self.q:
            qs = qs.filter(
                Q(username__icontains=self.q)
                | Q(given_name__icontains=self.q)
                | Q(family_name__icontains=self.q)
                | Q(display_name__icontains=self.q)
                | Q(emails__value__icontains=self.q)
            ).distinct()
        return qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["q"] = self.q
        return context

    def get_breadcrumbs(self):
        return [*self.realm_breadcrumbs(), ("Users", None)]


class RealmUserDetailView(RealmChildMixin, DetailView):
    permission_required = "realms.view_realmuser"
    template_name = "realms/realmuser_detail.html"
    context_object_name = "realm_user"
    pk_url_kwarg = "user_pk"

    def get_queryset(self):
        return RealmUser.objects.filter(realm=self.realm).prefetch_related("emails", "groups")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["attributes_json"] = json.dumps(self.object.attributes, indent=2, sort_keys=True, ensure_ascii=False)
        return context

    def get_breadcrumbs(self):
        return [
            *self.realm_breadcrumbs(),
            ("Users", reverse("realms:users", args=[self.realm.pk])),
            (self.object.username, None),
        ]


class RealmGroupListView(RealmChildMixin, ListView):
    permission_required = "realms.view_realmgroup"
    template_name = "realms/realmgroup_list.html"
    paginate_by = 50

    def get_queryset(self):
        qs = RealmGroup.objects.filter(realm=self.realm).annotate(member_count=Count("memberships"))
        self.q = self.request.GET.get("q", "").strip()
        if self.q:
            qs = qs.filter(display_name__icontains=self.q)
        return qs.order_by("display_name", "id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["q"] = self.q
        return context

    def get_breadcrumbs(self):
        return [*self.realm_breadcrumbs(), ("Groups", None)]


class RealmGroupDetailView(RealmChildMixin, DetailView):
    permission_required = "realms.view_realmgroup"
    template_name = "realms/realmgroup_detail.html"
    context_object_name = "group"
    pk_url_kwarg = "group_pk"
    members_per_page = 100

    def get_queryset(self):
        return RealmGroup.objects.filter(realm=self.realm)

    def get_context_data(self, **kwargs):
        from django.core.paginator import Paginator

        context = super().get_context_data(**kwargs)
        members = RealmUser.objects.filter(memberships__group=self.object).order_by("username", "id")
        paginator = Paginator(members, self.members_per_page)
        context["page_obj"] = paginator.get_page(self.request.GET.get("page"))
        context["attributes_json"] = json.dumps(self.object.attributes, indent=2, sort_keys=True, ensure_ascii=False)
        return context

    def get_breadcrumbs(self):
        return [
            *self.realm_breadcrumbs(),
            ("Groups", reverse("realms:groups", args=[self.realm.pk])),
            (self.object.display_name, None),
        ]


@require_GET
def saml_metadata(request: HttpRequest, pk) -> HttpResponse:
    """The SP metadata of the realm, for the Okta SAML app (public, like any SAML SP metadata)."""
    realm = get_object_or_404(Realm, pk=pk)
    return HttpResponse(sp_metadata_xml(realm, request), content_type="application/samlmetadata+xml")


@csrf_exempt
@require_POST
def saml_acs(request: HttpRequest, pk) -> HttpResponse:
    """Assertion consumer service. SAML sign-in is not available yet (tracked in its own issue)."""
    get_object_or_404(Realm, pk=pk)
    raise Http404("SAML sign-in is not available yet.")
