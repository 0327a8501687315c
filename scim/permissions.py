"""Which Django permission each SCIM call needs (the service account's groups grant them).

GET and POST /.search need view, POST add, PUT and PATCH change, DELETE delete, on realms.realmuser or
realms.realmgroup; discovery endpoints need any one of the eight.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

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
            return any(user.has_perm(f"realms.{codename}") for codename in SCIM_PERMISSION_CODENAMES)
        action = "view" if getattr(view, "is_search", False) else METHOD_ACTIONS.get(request.method)
        if action is None:
            return False
        permission = f"realms.{action}_{model}"
        if not user.has_perm(permission):
            self.message = (
                f"The account '{user.get_username()}' of this API token lacks the Django permission "
                f"'{permission}' needed for {request.method} on this endpoint."
            )
            return False
        return True
