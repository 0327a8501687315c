"""Django admin for realms. Realm users and groups are read-only here: only the IdP (SCIM) changes them."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEvent, ConsoleUserLink, Realm, RealmGroup, RealmGroupRoleMapping, RealmUser


@admin.register(Realm)
class RealmAdmin(admin.ModelAdmin):
    list_display = ("name", "backend", "scim_enabled", "enabled_for_login", "created_at")
    list_filter = ("backend", "scim_enabled", "enabled_for_login")
    search_fields = ("name",)
    readonly_fields = ("uuid", "created_at", "updated_at")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(RealmUser)
class RealmUserAdmin(ReadOnlyAdmin):
    list_display = ("username", "realm", "active", "external_id", "updated_at")
    list_filter = ("realm", "active")
    search_fields = ("username", "external_id", "given_name", "family_name")
    list_select_related = ("realm",)


@admin.register(RealmGroup)
class RealmGroupAdmin(ReadOnlyAdmin):
    list_display = ("display_name", "realm", "external_id", "updated_at")
    list_filter = ("realm",)
    search_fields = ("display_name", "external_id")
    list_select_related = ("realm",)


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
    """Read-only: mappings change on the realm's console page, which applies them at once and audits them."""

    list_display = ("realm_group", "role", "created_at")
    list_filter = ("realm_group__realm", "role")
    search_fields = ("realm_group__display_name", "role__name")
    list_select_related = ("realm_group", "role")

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ConsoleUserLink)
class ConsoleUserLinkAdmin(ReadOnlyAdmin):
    """Which console user each realm user signs in as (made at SAML sign-in)."""

    list_display = ("console_user", "realm_user", "realm", "deactivated_by_realm", "created_at")
    list_filter = ("realm", "deactivated_by_realm")
    search_fields = ("console_user__username", "realm_user__username")
    list_select_related = ("console_user", "realm_user", "realm")
