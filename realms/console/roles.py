"""Console pages for a realm's role mappings: which console roles (Django groups) each realm group gives.

Changes go through `realms.services.roles`, which applies them to the linked console users at once and records
each one as an audit event.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from ..models import RealmGroup, RealmGroupRoleMapping
from ..services import Actor, roles
from .views import RealmChildMixin

WRITE_PERMISSION = (
    Q(codename__startswith="add_") | Q(codename__startswith="change_") | Q(codename__startswith="delete_")
)
REALM_APPS = ("realms", "scim")


def role_warnings(roles: Iterable[Group]) -> dict[int, list[str]]:
    """What makes mapping each role (Django group) risky, by role id.

    A realm group's members are whoever the IdP puts in it: a role holding write permissions on the realms app
    (realms, realm users and groups, role mappings, service accounts, tokens) lets the IdP's admins hand out
    console administration, and a service accounts' group gives people the permissions of the SCIM API."""
    ids = [role.pk for role in roles]
    warnings: dict[int, list[str]] = {pk: [] for pk in ids}
    writes = Permission.objects.filter(WRITE_PERMISSION, content_type__app_label__in=REALM_APPS, group__in=ids)
    codenames: dict[int, list[str]] = {}
    for group_id, codename in writes.values_list("group", "codename").order_by("codename"):
        codenames.setdefault(group_id, []).append(codename)
    for group_id, names in codenames.items():
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        warnings[group_id].append(f"holds realm write permissions ({shown})")
    user_model = get_user_model()
    accounts = user_model.objects.filter(groups__in=ids, realms_service_account__isnull=False)
    holders: dict[int, list[str]] = {}
    for group_id, username in accounts.values_list("groups", user_model.USERNAME_FIELD).order_by(
        user_model.USERNAME_FIELD
    ):
        if group_id in warnings:
            holders.setdefault(group_id, []).append(username)
    for group_id, usernames in holders.items():
        names = ", ".join(usernames[:3]) + (f" and {len(usernames) - 3} more" if len(usernames) > 3 else "")
        warnings[group_id].append(f"the group of service account{'s' if len(usernames) > 1 else ''} {names}")
    return warnings


class RoleChoiceField(forms.ModelMultipleChoiceField):
    """Console roles as checkboxes (no Ctrl-click), each with what makes it risky to map."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.warnings: dict[int, list[str]] = {}

    def label_from_instance(self, obj: Group) -> str:
        warnings = self.warnings.get(obj.pk)
        return f"{obj.name} — ⚠ {'; '.join(warnings)}" if warnings else obj.name


class RoleMappingForm(forms.Form):
    realm_group = forms.ModelChoiceField(queryset=RealmGroup.objects.none(), label="Realm group")
    roles = RoleChoiceField(
        queryset=Group.objects.order_by("name"),
        label="Console roles",
        help_text="Django groups the members of the realm group hold while they are active. ⚠ marks a role that "
        "gives more than console access: realm write permissions, or the permissions of service accounts.",
    )

    def __init__(self, *args, realm, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["realm_group"].queryset = RealmGroup.objects.filter(realm=realm).order_by("display_name")
        self.fields["roles"].warnings = role_warnings(self.fields["roles"].queryset)


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

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        mappings = list(context["mappings"])
        warnings = role_warnings({m.role for m in mappings})
        for mapping in mappings:
            mapping.warnings = warnings.get(mapping.role_id, [])
        context["mappings"] = mappings
        return context

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
        role_pk = self.request.GET.get("role")
        if role_pk and role_pk.isdigit():
            initial["roles"] = list(Group.objects.filter(pk=role_pk))
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["safe_roles_missing"] = safe_roles_missing(context["form"].fields["roles"])
        context["realm_viewer_role"] = roles.REALM_VIEWER_ROLE
        context["realm_viewer_permissions"] = roles.REALM_VIEWER_PERMISSIONS
        return context

    def form_valid(self, form: RoleMappingForm) -> HttpResponse:
        realm_group = form.cleaned_data["realm_group"]
        created = roles.add_role_mappings(realm_group, form.cleaned_data["roles"], console_actor(self.request))
        if created:
            names = ", ".join(m.role.name for m in created)
            messages.success(self.request, f"Members of {realm_group.display_name} now hold: {names}.")
            warnings = role_warnings([m.role for m in created])
            for mapping in created:
                for warning in warnings.get(mapping.role_id, []):
                    messages.warning(
                        self.request, f"{mapping.role.name} {warning}: whoever the IdP puts in the group gets it."
                    )
        else:
            messages.info(self.request, f"{realm_group.display_name} already maps to these roles.")
        return redirect("realms:role_mappings", pk=self.realm.pk)

    def get_breadcrumbs(self):
        return [
            *self.realm_breadcrumbs(),
            ("Role mappings", reverse("realms:role_mappings", args=[self.realm.pk])),
            ("Add", None),
        ]


def safe_roles_missing(roles_field: RoleChoiceField) -> bool:
    """No role on offer but those flagged ⚠ (a fresh install: only the SCIM service accounts' groups)."""
    return all(roles_field.warnings.get(role.pk) for role in roles_field.queryset)


class RealmViewerRoleView(RealmChildMixin, View):
    """POST only: create the read-only "Realm viewer" role in one click, then back to the mapping form with it
    chosen (a fresh install offers no safe role to map)."""

    permission_required = ("auth.add_group", "auth.change_group")
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk) -> HttpResponse:
        role, created = roles.ensure_realm_viewer_role()
        verb = "created" if created else "is ready"
        messages.success(
            request, f"Role {role.name} {verb}: it may view realms, users, groups and their history, never change them."
        )
        return redirect(f"{reverse('realms:role_mapping_add', args=[self.realm.pk])}?role={role.pk}")


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
