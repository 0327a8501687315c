"""Which Django permission each SCIM call needs (the service account's groups grant them).

GET and POST /.search need view, POST add, PUT and PATCH change, DELETE delete, on realms.realmuser or
realms.realmgroup; discovery endpoints need any one of the eight.

The decision is made from the permission names read with the API token, in the token's own query
(`token.permission_names`, realms/sql/token_query.py: granted to the user directly or through its groups, as
ModelBackend reads them), and `is_superuser`: no query of its own, on every call. The management API decides
the same way (realms.api.permissions.has_perm).
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from realms.api.permissions import has_perm
from realms.services import SCIM_PERMISSION_CODENAMES

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class SCIMPermission(BasePermission):
    message = "This API token's account lacks the permission for this SCIM call."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        model = getattr(view, "scim_model", None)
        if model is None:  # discovery
            return any(has_perm(request, f"realms.{codename}") for codename in SCIM_PERMISSION_CODENAMES)
        action = "view" if getattr(view, "is_search", False) else METHOD_ACTIONS.get(request.method)
        if action is None:
            return False
        permission = f"realms.{action}_{model}"
        if not has_perm(request, permission):
            self.message = (
                f"The account '{user.get_username()}' of this API token lacks the Django permission "
                f"'{permission}' needed for {request.method} on this endpoint."
            )
            return False
        return True
