"""Who may call the management API, and the rule that keeps a caller from handing out more than it holds.

Each endpoint needs one Django model permission per method (`required`), checked like SCIM's: from the permission
names read with the API token in its own query, or the backends for a console session. Two more rules:

- A token restricted to a realm manages that realm only: it sees no other realm (404), never creates or deletes a
  realm, and never reaches service accounts or tokens (403).
- No privilege escalation: permissions given to someone else through the API (a service account's new groups, a
  token for an account, a role mapped to a realm group whose members the caller may provision) must all be held by
  the caller, unless the caller is an active superuser.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group, Permission
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

# What each method needs on the endpoint's model (its `permission_model`, "app_label.model").
METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def is_superuser(request: Request) -> bool:
    user = request.user
    return bool(user.is_active and getattr(user, "is_superuser", False))


def caller_permissions(request: Request) -> frozenset[str] | set[str]:
    """The caller's permission names ("app_label.codename"): read with its token, or asked of the backends."""
    names = getattr(request.auth, "permission_names", None)
    if names is not None:
        return names if request.user.is_active else frozenset()
    return request.user.get_all_permissions()


def has_perm(request: Request, permission: str) -> bool:
    if is_superuser(request):
        return True  # as ModelBackend: an active superuser holds every permission
    names = getattr(request.auth, "permission_names", None)
    if names is None:  # a console session: ask the backends
        return request.user.has_perm(permission)
    return request.user.is_active and permission in names


def token_realm_id(request: Request) -> Any:
    """The realm the caller's token is restricted to, or None (every realm, or a console session)."""
    return getattr(request.auth, "realm_id", None)


class ModelPermission(BasePermission):
    """The Django permission the view names for this method: `view.required_permission(request)`."""

    message = "The account of this API token lacks the permission for this call."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        permission = view.required_permission(request)
        if permission is None:
            return False
        if not has_perm(request, permission):
            self.message = (
                f"The account '{user.get_username()}' lacks the Django permission '{permission}' needed for "
                f"{request.method} on this endpoint."
            )
            return False
        return True


def refuse_realm_restricted(request: Request, what: str) -> None:
    """403 for a token restricted to a realm: `what` is beyond its realm."""
    if token_realm_id(request) is not None:
        raise PermissionDenied(f"This API token is restricted to one realm: it cannot {what}.")


def permission_names(permissions: Iterable[Permission]) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in permissions}


def group_permissions(groups: Iterable[Group]) -> set[str]:
    ids = [group.pk for group in groups]
    return permission_names(Permission.objects.filter(group__in=ids).select_related("content_type"))


def check_may_grant(request: Request, permissions: Iterable[str], what: str) -> None:
    """403 unless the caller holds every one of `permissions` (or is a superuser): `what` would give them."""
    if is_superuser(request):
        return
    missing = sorted(set(permissions) - set(caller_permissions(request)))
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise PermissionDenied(
            f"{what} would give permissions that the account '{request.user.get_username()}' does not hold "
            f"({shown}): only a superuser, or an account holding them, may."
        )


def check_may_grant_account(request: Request, user: Any, what: str) -> None:
    """A token for `user` acts with all of `user`'s permissions: the caller must hold them all."""
    if getattr(user, "is_superuser", False) and not is_superuser(request):
        raise PermissionDenied(f"{what}: the account is a superuser; only a superuser may.")
    check_may_grant(request, user.get_all_permissions(), what)
