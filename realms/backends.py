"""Console authentication backend that refuses service accounts everywhere a password or session is checked.

It also loads a user's permissions in one query instead of Django's two (user permissions, then group
permissions): every SCIM call checks one permission, and API tokens load the permissions with the token itself
(`with_permission_names` + `prime_permissions`), so an authorised API call costs a single query before its work.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import CharField, Q, QuerySet
from django.db.models.expressions import RawSQL

# Permission names ("app_label.codename") are joined with a newline: neither part can hold one.
_SEPARATOR = "\n"


def _permissions_of(user_pk: Any) -> QuerySet:
    """Permissions granted to a user directly or through its groups (what ModelBackend reads in two queries)."""
    user_model = get_user_model()
    direct = user_model.user_permissions.through.objects.filter(user_id=user_pk).values("permission_id")
    via_groups = Group.permissions.through.objects.filter(group__user=user_pk).values("permission_id")
    return Permission.objects.filter(Q(pk__in=direct) | Q(pk__in=via_groups))


def _names(rows: Any) -> set[str]:
    return {f"{app_label}.{codename}" for app_label, codename in rows}


@functools.cache
def _permission_names_sql(vendor: str, outer_user_column: str) -> str:
    """A correlated subquery: the permission names of the user in `outer_user_column`, joined by _SEPARATOR.

    SQL, because joining strings in an aggregate is STRING_AGG on PostgreSQL and GROUP_CONCAT on SQLite, with no
    core ORM function for it in Django 5.2; the token query it goes into is compiled once per process anyway
    (accounts.services.TOKEN_BY_HASH).
    """
    qn = connection.ops.quote_name
    user_model = get_user_model()
    user_permissions = qn(user_model.user_permissions.through._meta.db_table)
    user_groups = qn(user_model.groups.through._meta.db_table)
    group_permissions = qn(Group.permissions.through._meta.db_table)
    permission, content_type = qn(Permission._meta.db_table), qn(ContentType._meta.db_table)
    joined = "STRING_AGG({}, %s)" if vendor == "postgresql" else "GROUP_CONCAT({}, %s)"
    name = joined.format("ct.app_label || '.' || p.codename")
    # Only table names from the models' _meta (quoted) go into the text; the separator is a bound parameter.
    return (
        f"SELECT {name} FROM {permission} p INNER JOIN {content_type} ct ON ct.id = p.content_type_id "  # noqa: S608
        f"WHERE p.id IN (SELECT up.permission_id FROM {user_permissions} up WHERE up.user_id = {outer_user_column}) "
        f"OR p.id IN (SELECT gp.permission_id FROM {group_permissions} gp INNER JOIN {user_groups} ug "
        f"ON ug.group_id = gp.group_id WHERE ug.user_id = {outer_user_column})"
    )


def with_permission_names(queryset: QuerySet, user_field: str = "user_id") -> QuerySet:
    """Annotate each row with `_permission_names`: the permissions of the user in `user_field`, in the same query."""
    qn = connection.ops.quote_name
    outer = f"{qn(queryset.model._meta.db_table)}.{qn(queryset.model._meta.get_field(user_field).column)}"
    sql = _permission_names_sql(connection.vendor, outer)
    return queryset.annotate(_permission_names=RawSQL(f"({sql})", (_SEPARATOR,), output_field=CharField()))  # noqa: S611


def prime_permissions(user: Any, joined_names: str | None) -> None:
    """Cache the permissions loaded by `with_permission_names` on `user`, as ModelBackend would after its queries.

    Superusers are left alone: their permission checks never read the cache, and get_all_permissions lists every
    permission, not only those granted.
    """
    if user.is_superuser or not user.is_active:
        return
    user._perm_cache = {name for name in (joined_names or "").split(_SEPARATOR) if name}


class ConsoleModelBackend(ModelBackend):
    def user_can_authenticate(self, user) -> bool:
        # Used for password login (console, admin) and for restoring a session (get_user):
        # a service account is refused in both, so even a forged session cannot act as one.
        if getattr(user, "is_service_account", False):
            return False
        return super().user_can_authenticate(user)

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        """ModelBackend's answer, in one query instead of two (same cache attribute, same inactive/anonymous rules)."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            permissions = Permission.objects.all() if user_obj.is_superuser else _permissions_of(user_obj.pk)
            user_obj._perm_cache = _names(permissions.values_list("content_type__app_label", "codename"))
        return user_obj._perm_cache
