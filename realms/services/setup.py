"""Realm set-up: realms, the SCIM permission group, the quickstart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import APIToken, Realm, ServiceAccount
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
class OktaConnection:
    """What a realm needs for Okta's Provisioning tab: the group, its service account, and a token shown once."""

    realm: Realm
    group: Group
    service_account: ServiceAccount
    token: APIToken
    secret: str  # shown once to whoever asked for it, never stored
    account_created: bool
    account_reactivated: bool
    scim_turned_on: bool


@dataclass(frozen=True)
class QuickstartResult:
    realm: Realm
    group: Group
    service_account: ServiceAccount
    token: str
    realm_created: bool


@transaction.atomic
def connect_okta(realm: Realm, *, created_by: Any | None = None, service_account: str | None = None) -> OktaConnection:
    """Turn SCIM on for `realm`, create or reuse the group holding the eight SCIM permissions and a service account
    in it, and issue a token restricted to this realm (least privilege: 404 on every other realm).

    Run again, it reuses the group and the account and issues one more token; earlier tokens stay valid until
    revoked, so a working Okta connection never breaks because someone clicked twice."""
    scim_turned_on = not realm.scim_enabled
    if scim_turned_on:
        realm.scim_enabled = True
        realm.save(update_fields=["scim_enabled", "updated_at"])
    group, _ = Group.objects.get_or_create(name=f"SCIM {realm.name}"[:150])
    group.permissions.add(*scim_permissions())
    account, created = _realm_service_account(realm, group, service_account)
    reactivated = not created and not account.user.is_active
    if reactivated:  # its tokens would be refused: connecting Okta means they must work
        account.user.is_active = True
        account.user.save(update_fields=["is_active"])
    issued = account_services.issue_token(account.user, name="Okta provisioning", created_by=created_by, realm=realm)
    return OktaConnection(realm, group, account, issued.token, issued.secret, created, reactivated, scim_turned_on)


def _realm_service_account(realm: Realm, group: Group, username: str | None = None) -> tuple[ServiceAccount, bool]:
    """The realm's service account (scim-<realm>, or `username`: a host whose usernames are emails names it), in
    `group`; created when missing. A person who already has the name keeps it: the account takes the next free one
    (scim-<realm>-2, …); a name given is used as it is."""
    user_model = get_user_model()
    base = username or _service_account_username(realm.name)
    for n in range(1, 2 if username else 100):
        candidate = base if n == 1 else f"{base[:145]}-{n}"
        user = user_model.objects.filter(**{user_model.USERNAME_FIELD: candidate}).first()
        if user is None:
            account = account_services.create_service_account(
                candidate, description=f"SCIM provisioning of realm {realm.name}", groups=[group]
            )
            return account, True
        account = ServiceAccount.objects.filter(user=user).select_related("user").first()
        if account is not None:
            account.user.groups.add(group)
            return account, False
    if username:
        raise ValidationError(f"A user named {username!r} already exists and is not a service account.")
    raise ValidationError(f"No free username for the service account of realm {realm.name}.")


@transaction.atomic
def scim_quickstart(realm_name: str, service_account: str | None = None) -> QuickstartResult:
    """Create or reuse an Okta realm with SCIM on, a group with the eight SCIM permissions, a service account in
    it, and issue a fresh token: everything Okta's Provisioning tab needs, in one call (connect_okta, from a shell)."""
    realm = Realm.objects.filter(name=realm_name).first()
    realm_created = realm is None
    if realm is None:
        realm = create_realm(realm_name, scim_enabled=True)
    connection = connect_okta(realm, service_account=service_account)
    return QuickstartResult(realm, connection.group, connection.service_account, connection.secret, realm_created)


def _service_account_username(realm_name: str) -> str:
    slug = "".join(c if c.isalnum() or c in "@.+-_" else "-" for c in realm_name.lower()).strip("-")
    return f"scim-{slug or 'realm'}"[:150]
