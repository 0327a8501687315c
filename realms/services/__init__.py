"""Typed functions that change identity state. Views, commands and the SCIM layer call these, never the models."""

from . import roles, saml_login
from .identities import (
    Actor,
    EmailData,
    GroupData,
    IdentityError,
    MembershipChange,
    UniquenessError,
    UnknownMembers,
    UserData,
    VersionMismatch,
    create_group,
    create_user,
    delete_group,
    delete_user,
    replace_user,
    update_group,
)
from .setup import SCIM_PERMISSION_CODENAMES, QuickstartResult, create_realm, scim_permissions, scim_quickstart

__all__ = [
    "SCIM_PERMISSION_CODENAMES",
    "Actor",
    "EmailData",
    "GroupData",
    "IdentityError",
    "MembershipChange",
    "QuickstartResult",
    "UniquenessError",
    "UnknownMembers",
    "UserData",
    "VersionMismatch",
    "create_group",
    "create_realm",
    "create_user",
    "delete_group",
    "delete_user",
    "replace_user",
    "roles",
    "saml_login",
    "scim_permissions",
    "scim_quickstart",
    "update_group",
]
