"""Realm set-up: realms, the SCIM permission group, the quickstart."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from ..models import Realm, ServiceAccount
from . import accounts as account_services

# The eight permissions a SCIM service account needs (RFC 7644 verbs mapped to Django's model permissions).
SCIM_PERMISSION_CODENAMES = [
    f"{action}_{model}" for model in ("realmuser", "realmgroup") for action in ("add", "change", "delete", "view")
]


def create_realm(
    name: str,
    *,
    scim_enabled: bool = False,
    idp_metadata: str = "",
    enabled_for_login: bool = False,
) -> Realm:
    realm = Realm(
        name=name,
        backend=Realm.Backend.OKTA,
        scim_enabled=scim_enabled,
        idp_metadata=idp_metadata,
        enabled_for_login=enabled_for_login,
    )
    realm.full_clean()
    realm.save()
    return realm


def scim_permissions() -> list[Permission]:
    return list(Permission.objects.filter(content_type__app_label="realms", codename__in=SCIM_PERMISSION_CODENAMES))


@dataclass(frozen=True)
class QuickstartResult:
    realm: Realm
    group: Group
    service_account: ServiceAccount
    token: str
    realm_created: bool


@transaction.atomic
def scim_quickstart(realm_name: str, service_account: str | None = None) -> QuickstartResult:
    """Create or reuse an Okta realm with SCIM on, a group with the eight SCIM permissions, a service account in
    it, and issue a fresh token: everything Okta's Provisioning tab needs, in one call."""
    realm = Realm.objects.filter(name=realm_name).first()
    realm_created = realm is None
    if realm is None:
        realm = create_realm(realm_name, scim_enabled=True)
    elif not realm.scim_enabled:
        realm.scim_enabled = True
        realm.save(update_fields=["scim_enabled", "updated_at"])
    group, _ = Group.objects.get_or_create(name=f"SCIM {realm_name}"[:150])
    group.permissions.add(*scim_permissions())
    # A host whose USERNAME_FIELD is an email names the account itself (scim-<realm> is not an email).
    username = service_account or _service_account_username(realm_name)
    user_model = get_user_model()
    account = ServiceAccount.objects.filter(**{f"user__{user_model.USERNAME_FIELD}": username}).first()
    if account is None:
        account = account_services.create_service_account(
            username, description=f"SCIM provisioning of realm {realm_name}", groups=[group]
        )
    else:
        account.user.groups.add(group)
    # Least privilege: the quickstart's token only works on this realm's SCIM API.
    issued = account_services.issue_token(account.user, name=f"SCIM {realm_name}", realm=realm)
    return QuickstartResult(realm, group, account, issued.secret, realm_created)


def _service_account_username(realm_name: str) -> str:
    slug = "".join(c if c.isalnum() or c in "@.+-_" else "-" for c in realm_name.lower()).strip("-")
    return f"scim-{slug or 'realm'}"[:150]
