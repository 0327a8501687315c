"""Console authentication backend that refuses service accounts everywhere a password or session is checked.

It also loads a user's permissions in one query instead of Django's two (user permissions, then group
permissions), cached on the user as `all_permission_names` (an attribute of ours, not ModelBackend's private cache).
API tokens load their user's permission names with the token itself (realms/token_query.py).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models import Q, QuerySet


def _permissions_of(user_pk: Any) -> QuerySet:
    """Permissions granted to a user directly or through its groups (what ModelBackend reads in two queries)."""
    user_model = get_user_model()
    direct = user_model.user_permissions.through.objects.filter(user_id=user_pk).values("permission_id")
    via_groups = Group.permissions.through.objects.filter(group__user=user_pk).values("permission_id")
    return Permission.objects.filter(Q(pk__in=direct) | Q(pk__in=via_groups))


def _names(rows: Any) -> set[str]:
    return {f"{app_label}.{codename}" for app_label, codename in rows}


class ConsoleModelBackend(ModelBackend):
    def user_can_authenticate(self, user) -> bool:
        # Used for password login (console, admin) and for restoring a session (get_user):
        # a service account is refused in both, so even a forged session cannot act as one.
        if getattr(user, "is_service_account", False):
            return False
        return super().user_can_authenticate(user)

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        """ModelBackend's answer, in one query instead of two (same inactive/anonymous rules), cached on the user."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "all_permission_names"):
            permissions = Permission.objects.all() if user_obj.is_superuser else _permissions_of(user_obj.pk)
            user_obj.all_permission_names = _names(permissions.values_list("content_type__app_label", "codename"))
        return user_obj.all_permission_names
