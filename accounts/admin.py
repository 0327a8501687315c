"""Django admin for console users, service accounts and API tokens."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from . import services
from .models import APIToken, ServiceAccount, User


class ConsoleUserCreationForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)


class ConsoleUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class ConsoleUserAdmin(UserAdmin):
    """People who log into the console. Service accounts have their own admin, without password fields."""

    form = ConsoleUserChangeForm
    add_form = ConsoleUserCreationForm

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).filter(is_service_account=False)


class APITokenInline(admin.TabularInline):
    model = APIToken
    fk_name = "user"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("name", "masked", "status", "created_at", "expires_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ServiceAccountForm(forms.ModelForm):
    class Meta:
        model = ServiceAccount
        fields = ("username", "description", "groups", "is_active")


@admin.register(ServiceAccount)
class ServiceAccountAdmin(admin.ModelAdmin):
    form = ServiceAccountForm
    list_display = ("username", "description", "is_active", "date_joined")
    list_filter = ("is_active", "groups")
    search_fields = ("username", "description")
    filter_horizontal = ("groups",)
    readonly_fields = ("date_joined", "last_login", "issue_token_link")
    inlines = [APITokenInline]

    def get_fields(self, request: HttpRequest, obj=None):
        fields = ["username", "description", "groups", "is_active"]
        if obj is not None:
            fields += ["issue_token_link", "date_joined"]
        return fields

    @admin.display(description="API tokens")
    def issue_token_link(self, obj: ServiceAccount) -> str:
        url = reverse("admin:accounts_apitoken_add") + f"?user={obj.pk}"
        return format_html('<a class="button" href="{}">Issue an API token</a>', url)

    def save_model(self, request: HttpRequest, obj: ServiceAccount, form, change: bool) -> None:
        obj.is_service_account = True
        obj.set_unusable_password()
        super().save_model(request, obj, form, change)


class APITokenAddForm(forms.ModelForm):
    class Meta:
        model = APIToken
        fields = ("user", "name", "expires_at", "realm")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(is_active=True).order_by("-is_service_account", "username")
        self.fields["user"].help_text = "Usually a service account."


@admin.register(APIToken)
class APITokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "masked", "status", "created_at", "expires_at", "last_used_at")
    list_filter = ("user__is_service_account",)
    search_fields = ("name", "user__username", "hint")
    list_select_related = ("user",)
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
        issued = services.issue_token(
            form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data["expires_at"],
            created_by=request.user,
            instance=obj,
            realm=form.cleaned_data.get("realm"),
        )
        # Kept on the request for response_add only: never stored, logged or put in a message.
        request._issued_token_secret = issued.secret

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    def response_add(self, request: HttpRequest, obj: APIToken, post_url_continue=None) -> HttpResponse:
        secret = getattr(request, "_issued_token_secret", None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "API token issued",
            "token": obj,
            "secret": secret,
        }
        response = TemplateResponse(request, "admin/accounts/apitoken/issued.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected API tokens", permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset) -> None:
        count = 0
        for token in queryset.select_related("user"):
            if token.revoked_at is None:
                services.revoke_token(token, revoked_by=request.user)
                count += 1
        self.message_user(request, f"{count} API token(s) revoked.", messages.SUCCESS)
