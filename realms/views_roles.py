"""Console pages for a realm's role mappings: which console roles (Django groups) each realm group gives.

Changes go through `realms.services.roles`, which applies them to the linked console users at once and records
each one as an audit event.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.models import Group
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import FormView, ListView, TemplateView

from .models import RealmGroup, RealmGroupRoleMapping
from .services import Actor, roles
from .views import RealmChildMixin


class RoleMappingForm(forms.Form):
    realm_group = forms.ModelChoiceField(queryset=RealmGroup.objects.none(), label="Realm group")
    roles = forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by("name"),
        label="Console roles",
        help_text="Django groups the members of the realm group hold while they are active.",
    )

    def __init__(self, *args, realm, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["realm_group"].queryset = RealmGroup.objects.filter(realm=realm).order_by("display_name")


def console_actor(request: HttpRequest) -> Actor:
    return Actor(user=request.user, source="console")


class RoleMappingListView(RealmChildMixin, ListView):
    permission_required = "realms.view_realmgrouprolemapping"
    template_name = "realms/roles/mapping_list.html"
    context_object_name = "mappings"
    paginate_by = 100

    def get_queryset(self):
        return (
            RealmGroupRoleMapping.objects.filter(realm_group__realm=self.realm)
            .select_related("realm_group", "role")
            .order_by("realm_group__display_name", "role__name", "pk")
        )

    def get_breadcrumbs(self):
        return [*self.realm_breadcrumbs(), ("Role mappings", None)]


class RoleMappingCreateView(RealmChildMixin, FormView):
    permission_required = "realms.add_realmgrouprolemapping"
    template_name = "realms/roles/mapping_form.html"
    form_class = RoleMappingForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["realm"] = self.realm
        return kwargs

    def get_initial(self):
        initial = super().get_initial()
        group_pk = self.request.GET.get("realm_group")
        if group_pk:
            initial["realm_group"] = RealmGroup.objects.filter(realm=self.realm, pk=group_pk).first()
        return initial

    def form_valid(self, form: RoleMappingForm) -> HttpResponse:
        realm_group = form.cleaned_data["realm_group"]
        created = roles.add_role_mappings(realm_group, form.cleaned_data["roles"], console_actor(self.request))
        if created:
            names = ", ".join(m.role.name for m in created)
            messages.success(self.request, f"Members of {realm_group.display_name} now hold: {names}.")
        else:
            messages.info(self.request, f"{realm_group.display_name} already maps to these roles.")
        return redirect("realms:role_mappings", pk=self.realm.pk)

    def get_breadcrumbs(self):
        return [
            *self.realm_breadcrumbs(),
            ("Role mappings", reverse("realms:role_mappings", args=[self.realm.pk])),
            ("Add", None),
        ]


class RoleMappingDeleteView(RealmChildMixin, TemplateView):
    permission_required = "realms.delete_realmgrouprolemapping"
    template_name = "realms/roles/mapping_confirm_delete.html"

    def get_mapping(self) -> RealmGroupRoleMapping:
        return get_object_or_404(
            RealmGroupRoleMapping.objects.select_related("realm_group", "role"),
            pk=self.kwargs["mapping_pk"],
            realm_group__realm=self.realm,
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["mapping"] = self.get_mapping()
        return context

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        mapping = self.get_mapping()
        changes = roles.remove_role_mapping(mapping, console_actor(request))
        revoked = sum(len(ids) for ids in changes.revoked.values())
        messages.success(
            request,
            f"{mapping.realm_group.display_name} no longer gives {mapping.role.name} "
            f"(revoked from {revoked} console user{'s' if revoked != 1 else ''}).",
        )
        return redirect("realms:role_mappings", pk=self.realm.pk)

    def get_breadcrumbs(self):
        return [
            *self.realm_breadcrumbs(),
            ("Role mappings", reverse("realms:role_mappings", args=[self.realm.pk])),
            ("Remove", None),
        ]
