"""Django admin for realms. Realm users and groups are read-only here: only the IdP (SCIM) changes them."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from . import urls_helpers
from .console import shown_once
from .console.forms import new_service_account_username
from .console.okta import OKTA_PROVISIONING_ACTIONS
from .datetimes import local
from .models import (
    APIToken,
    AuditEvent,
    ConsoleUserLink,
    Realm,
    RealmGroup,
    RealmGroupRoleMapping,
    RealmUser,
    ServiceAccount,
)
from .services import accounts as account_services


def _username_lookup(prefix: str) -> str:
    return f"{prefix}__{get_user_model().USERNAME_FIELD}"


@admin.register(Realm)
class RealmAdmin(admin.ModelAdmin):
    list_display = ("name", "backend", "scim_enabled", "enabled_for_login", "created_at")
    list_filter = ("backend", "scim_enabled", "enabled_for_login", "allow_weak_signature_algorithms")
    search_fields = ("name",)
    readonly_fields = ("uuid", "created_at", "updated_at")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def _admin_actor(request: HttpRequest):
    from .services import Actor

    return Actor(user=request.user, source="admin")


@admin.register(RealmUser)
class RealmUserAdmin(ReadOnlyAdmin):
    """Deleting here is a SCIM DELETE's twin: the linked console user loses its roles and sessions, audited."""

    list_display = ("username", "realm", "active", "external_id", "updated_at")
    list_filter = ("realm", "active")
    search_fields = ("username", "external_id", "given_name", "family_name")
    list_select_related = ("realm",)

    def delete_model(self, request: HttpRequest, obj: RealmUser) -> None:
        from .services import delete_user

        with transaction.atomic():
            delete_user(obj, _admin_actor(request))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(RealmGroup)
class RealmGroupAdmin(ReadOnlyAdmin):
    """Deleting here is a SCIM DELETE's twin: the roles its mappings gave are revoked, audited."""

    list_display = ("display_name", "realm", "external_id", "updated_at")
    list_filter = ("realm",)
    search_fields = ("display_name", "external_id")
    list_select_related = ("realm",)

    def delete_model(self, request: HttpRequest, obj: RealmGroup) -> None:
        from .services import delete_group

        with transaction.atomic():
            delete_group(obj, _admin_actor(request))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit trail is append-only: nobody adds, edits or deletes events here."""

    list_display = ("created_at", "realm", "action", "resource_type", "resource_repr", "actor_username", "token_hint")
    list_filter = ("action", "resource_type", "realm")
    search_fields = ("resource_repr", "resource_id", "actor_username")
    list_select_related = ("realm",)
    date_hierarchy = "created_at"

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(RealmGroupRoleMapping)
class RealmGroupRoleMappingAdmin(ReadOnlyAdmin):
    """Mappings are added on the realm's console page; deleting one here revokes its roles at once, audited (as
    on the console page, and as deleting its realm group does)."""

    list_display = ("realm_group", "role", "created_at")
    list_filter = ("realm_group__realm", "role")
    search_fields = ("realm_group__display_name", "role__name")
    list_select_related = ("realm_group", "role")

    def delete_model(self, request: HttpRequest, obj: RealmGroupRoleMapping) -> None:
        from .services import roles

        with transaction.atomic():
            roles.remove_role_mapping(obj, _admin_actor(request))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(ConsoleUserLink)
class ConsoleUserLinkAdmin(ReadOnlyAdmin):
    """Which console user each realm user signs in as (made at SAML sign-in)."""

    list_display = ("console_user", "realm_user", "realm", "deactivated_by_realm", "created_at")
    list_filter = ("realm", "deactivated_by_realm")

    def get_search_fields(self, request: HttpRequest):
        return (_username_lookup("console_user"), "realm_user__username")

    list_select_related = ("console_user", "realm_user", "realm")


# ------------------------------------------------------------------------------------ service accounts and tokens


class ServiceAccountAdminForm(forms.ModelForm):
    """A service account and the parts of its user an admin may set: username (on creation), groups, active."""

    username = forms.CharField(max_length=150, help_text="Letters, digits and @/./+/-/_ only, e.g. okta-scim.")
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by("name"),
        required=False,
        # Checkboxes, as the console's form: a FilteredSelectMultiple on a form field of our own put its "Groups:"
        # label on the right of the widget (its JS rebuilds the row), where a new admin did not find it.
        widget=forms.CheckboxSelectMultiple,
        help_text="The Django permissions of these groups decide what the account's tokens may do.",
    )
    is_active = forms.BooleanField(required=False, initial=True, help_text="Tokens of an inactive account fail.")

    class Meta:
        model = ServiceAccount
        fields = ("description",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            user = self.instance.user
            self.fields["username"].disabled = True
            self.fields["username"].required = False
            self.initial.update(username=user.get_username(), groups=list(user.groups.all()), is_active=user.is_active)

    def clean_username(self) -> str:
        if self.instance.pk is not None:
            return self.instance.user.get_username()
        return new_service_account_username(self.cleaned_data["username"])


@admin.register(ServiceAccount)
class ServiceAccountAdmin(admin.ModelAdmin):
    """Service accounts: users of the host's model without password, staff or superuser flags, with API tokens."""

    form = ServiceAccountAdminForm
    list_display = ("username", "realm", "description", "is_active", "created_at")
    list_select_related = ("user", "realm")
    readonly_fields = ("realm", "tokens", "token_list", "created_at")

    def get_search_fields(self, request: HttpRequest):
        return (_username_lookup("user"), "description")

    def get_fields(self, request: HttpRequest, obj=None):
        fields = ["username", "description", "groups", "is_active"]
        if obj is None:
            return fields
        # The "Issue an API token" action only for those who may issue one (a view-only admin would get a 403).
        can_issue = self.admin_site.get_model_admin(APIToken).has_add_permission(request)
        extra = ["realm"] if obj.realm_id else []  # Connect Okta's account of that realm, never shared
        return [*fields, *extra, "tokens" if can_issue else "token_list", "created_at"]

    @admin.display(description="username", ordering="user")
    def username(self, obj: ServiceAccount) -> str:
        return obj.user.get_username()

    @admin.display(description="active", boolean=True)
    def is_active(self, obj: ServiceAccount) -> bool:
        return obj.user.is_active

    @admin.display(description="API tokens")
    def tokens(self, obj: ServiceAccount) -> str:
        issue = reverse("admin:realms_apitoken_add") + f"?user={obj.user_id}"
        return format_html('{}<a class="button" href="{}">Issue an API token</a>', self.token_list(obj), issue)

    @admin.display(description="API tokens")
    def token_list(self, obj: ServiceAccount) -> str:
        rows = format_html_join(
            "",
            '<li><a href="{}">{}</a> · {} · {} · {} · expires {} · last used {}</li>',
            (
                (
                    reverse("admin:realms_apitoken_change", args=[t.pk]),
                    t.name,
                    t.masked,
                    t.status,
                    f"realm {t.realm.name}" if t.realm is not None else "every realm",
                    date_format(local(t.expires_at), "DATETIME_FORMAT") if t.expires_at else "never",
                    date_format(local(t.last_used_at), "DATETIME_FORMAT") if t.last_used_at else "never",
                )
                for t in obj.user.realms_api_tokens.select_related("realm")
            ),
        )
        return format_html("<ul>{}</ul>", rows) if rows else format_html('<p class="help">{}</p>', "No API token yet.")

    def save_model(self, request: HttpRequest, obj: ServiceAccount, form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            obj.save()
        else:
            created = account_services.create_service_account(
                data["username"], description=data["description"], groups=data["groups"]
            )
            obj.pk, obj.user, obj.created_at = created.pk, created.user, created.created_at
            obj._state.adding = False
        account_services.update_service_account(obj, is_active=data["is_active"])

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        form.instance.user.groups.set(form.cleaned_data["groups"])

    def response_add(self, request: HttpRequest, obj: ServiceAccount, post_url_continue=None) -> HttpResponse:
        # The next step is its first token: go to its page (which offers it), not back to the list.
        if any(key in request.POST for key in ("_addanother", "_continue", IS_POPUP_VAR)):
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, f"Service account {obj.username} created. Issue an API token for it.")
        return HttpResponseRedirect(reverse("admin:realms_serviceaccount_change", args=[obj.pk]))


class APITokenAddForm(forms.ModelForm):
    class Meta:
        model = APIToken
        fields = ("user", "name", "expires_at", "realm")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        user_model = get_user_model()
        self.fields["user"].queryset = user_model.objects.filter(
            is_active=True, realms_service_account__isnull=False
        ).order_by(user_model.USERNAME_FIELD)
        self.fields["user"].label = "Service account"


@admin.register(APIToken)
class APITokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "token", "status", "realm_restriction", "expires_at", "last_used_at", "created_at")
    list_filter = ("realm",)
    list_select_related = ("user", "realm")
    actions = ["revoke_tokens"]
    readonly_fields = (
        "user",
        "masked",
        "status",
        "realm",
        "created_at",
        "created_by",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )

    def get_search_fields(self, request: HttpRequest):
        return ("name", _username_lookup("user"), "hint")

    @admin.display(description="token")
    def token(self, obj: APIToken) -> str:
        return obj.masked

    @admin.display(description="realm", ordering="realm__name")
    def realm_restriction(self, obj: APIToken) -> str:
        return obj.realm.name if obj.realm is not None else "every realm"

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        if obj is None:
            kwargs["form"] = APITokenAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return ["user", "name", "expires_at", "realm"]
        return ["name", *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return () if obj is None else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Tokens are revoked, not deleted, so their history stays.
        return False

    def save_model(self, request: HttpRequest, obj: APIToken, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = account_services.issue_token(
            form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data["expires_at"],
            created_by=request.user,
            instance=obj,
            realm=form.cleaned_data.get("realm"),
        )
        # Kept on the request for response_add only: never stored, logged or put in a message.
        request.realms_issued_token_secret = issued.secret

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    def response_add(self, request: HttpRequest, obj: APIToken, post_url_continue=None) -> HttpResponse:
        # POST, then a redirect to the page that shows the secret once: a reload never issues a second token, and
        # "Save and add another" cannot skip the only display of the secret.
        path = reverse("admin:realms_apitoken_issued", args=[obj.pk])
        response = HttpResponseRedirect(path)
        secret = getattr(request, "realms_issued_token_secret", None)
        if secret:
            shown_once.hand_over(request, response, f"admin-token-{obj.pk}", secret, path)
        return response

    def get_urls(self):
        issued = path(
            "<path:object_id>/issued/",
            self.admin_site.admin_view(self.issued_view),
            name="realms_apitoken_issued",
        )
        return [issued, *super().get_urls()]

    def issued_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The token just issued: its secret on the first display only, a copy button, and where it goes."""
        token = self.get_object(request, object_id)
        if token is None:
            raise Http404("No API token with this id.")
        if not self.has_add_permission(request):
            raise PermissionDenied
        secret = shown_once.take(request, f"admin-token-{token.pk}")
        realm = token.realm
        root_url = urls_helpers.scim_root_url(realm.pk, request) if realm is not None and realm.scim_enabled else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "API token issued",
            "token": token,
            "secret": secret,
            "scim_root_url": root_url,
            "scim_root_url_problem": urls_helpers.unreachable_reason(root_url) if root_url else None,
            "provisioning_actions": OKTA_PROVISIONING_ACTIONS,
            "service_account": ServiceAccount.objects.filter(user_id=token.user_id).first(),
            "no_permission": account_services.has_no_permission(token.user),
        }
        response = TemplateResponse(request, "admin/realms/apitoken/issued.html", context)
        return shown_once.close(response, f"admin-token-{token.pk}", request.path)

    @admin.action(description="Revoke selected API tokens", permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset) -> None:
        count = 0
        for token in queryset.select_related("user"):
            if token.revoked_at is None:
                account_services.revoke_token(token, revoked_by=request.user)
                count += 1
        self.message_user(request, f"{count} API token(s) revoked.", messages.SUCCESS)
