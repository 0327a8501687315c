"""Realm set-up: realms, the SCIM permission group, the quickstart."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet, Value
from django.db.models.functions import Lower
from django.utils import timezone

from ..models import APIToken, Realm, ServiceAccount
from ..sql.search import fold
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


def realm_by_name(name: str) -> Realm | None:
    """The realm named `name`, in any letter case (names are unique ignoring it)."""
    return Realm.objects.alias(lname=Lower("name")).filter(lname=Lower(Value(name))).first()


def scim_permissions() -> list[Permission]:
    return list(Permission.objects.filter(content_type__app_label="realms", codename__in=SCIM_PERMISSION_CODENAMES))


@dataclass(frozen=True)
class OktaConnection:
    """What a realm needs for Okta's Provisioning tab: the group, its service account, and a token shown once."""

    realm: Realm
    group: Group
    service_account: ServiceAccount
    token: APIToken | None  # None when only SCIM was turned on (the realm's token kept)
    secret: str  # shown once to whoever asked for it, never stored ("" without a new token)
    account_created: bool
    account_reactivated: bool
    scim_turned_on: bool
    retired: tuple[APIToken, ...] = ()  # the realm's earlier tokens, now expiring (or revoked)
    retire_at: datetime.datetime | None = None


@dataclass(frozen=True)
class QuickstartResult:
    realm: Realm
    group: Group
    service_account: ServiceAccount
    token: str
    realm_created: bool


class TokenAlreadyIssued(ValidationError):
    """Connect Okta on a realm that has a working token: a second one is issued only when the admin says when
    the old one stops working (`retire_after`), never silently beside it."""


def realm_tokens(realm: Realm) -> QuerySet[APIToken]:
    """The active tokens restricted to `realm`: its SCIM connection's, whichever account holds them."""
    return APIToken.objects.active().filter(realm=realm).select_related("user").order_by("-created_at", "-pk")


def okta_token_name(realm: Realm, day: datetime.date | None = None) -> str:
    """Named like "Okta provisioning · <realm> · 2026-12-05": tokens of different realms and days tell themselves
    apart in every list (they differed by their last four characters only)."""
    if day is None:
        now = timezone.now()
        day = timezone.localtime(now).date() if timezone.is_aware(now) else now.date()
    suffix = f" · {day.isoformat()}"
    room = APIToken._meta.get_field("name").max_length - len("Okta provisioning · ") - len(suffix)
    name = realm.name if len(realm.name) <= room else realm.name[: room - 1] + "…"
    return f"Okta provisioning · {name}{suffix}"


@transaction.atomic
def connect_okta(
    realm: Realm,
    *,
    created_by: Any | None = None,
    service_account: str | None = None,
    retire_after: datetime.timedelta | None = None,
    issue_token: bool = True,
    force: bool = False,
) -> OktaConnection:
    """Turn SCIM on for `realm`, create or reuse the realm's own service account (in the group holding the eight
    SCIM permissions), and issue a token restricted to this realm (least privilege: 404 on every other realm).

    The account is the realm's, linked to it (ServiceAccount.realm), never another realm's found by its name.
    When the realm already has active tokens, a new one is issued only with `retire_after`: the earlier ones then
    expire after that delay (Okta needs a moment to take the new one; zero revokes them now), or with `force`
    (scim_quickstart, whose caller asked for a fresh token and prints it). `issue_token=False` only turns SCIM on
    and makes sure the account and its permissions are in place, keeping the realm's token."""
    existing = list(realm_tokens(realm))
    if issue_token and existing and retire_after is None and not force:
        raise TokenAlreadyIssued(
            f"Realm {realm.name} already has {len(existing)} active token{'s' if len(existing) != 1 else ''}: "
            "issue a new one with a date for the old one to stop working."
        )
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
    if not issue_token:
        return OktaConnection(realm, group, account, None, "", created, reactivated, scim_turned_on)
    issued = account_services.issue_token(account.user, name=okta_token_name(realm), created_by=created_by, realm=realm)
    retired: list[APIToken] = []
    retire_at = None
    if retire_after is not None and existing:
        now = timezone.now()
        retire_at = now + retire_after
        for token in existing:
            if retire_after <= datetime.timedelta(0):
                account_services.revoke_token(token, revoked_by=created_by)
            elif token.expires_at is None or token.expires_at > retire_at:
                token.expires_at = retire_at
                token.save(update_fields=["expires_at"])
            retired.append(token)
    return OktaConnection(
        realm,
        group,
        account,
        issued.token,
        issued.secret,
        created,
        reactivated,
        scim_turned_on,
        tuple(retired),
        retire_at,
    )


def _realm_service_account(realm: Realm, group: Group, username: str | None = None) -> tuple[ServiceAccount, bool]:
    """The realm's own service account, in `group`; created when it has none, named after the realm
    (`service_account_username`, or `username`: a host whose usernames are emails names it).

    Found by its link to the realm, never by its name: an account of another realm, or a person, that holds the
    name is left alone (the new account takes the next free name, scim-<realm>-2…); a name given must be free,
    or an unlinked service account, which is then linked to this realm."""
    account = ServiceAccount.objects.filter(realm=realm).select_related("user").first()
    if account is not None:
        account.user.groups.add(group)
        return account, False
    user_model = get_user_model()
    if username:
        user = user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).first()
        if user is not None:
            account = ServiceAccount.objects.filter(user=user).select_related("user", "realm").first()
            if account is None:
                raise ValidationError(f"A user named {username!r} already exists and is not a service account.")
            if account.realm_id is not None:
                raise ValidationError(
                    f"Service account {username!r} provisions realm {account.realm.name}: each realm has its own."
                )
            account.realm = realm
            account.save(update_fields=["realm"])
            account.user.groups.add(group)
            return account, False
        candidates = [username]
    else:
        candidates = _free_candidates(service_account_username(realm.name))
    for candidate in candidates:
        if not user_model.objects.filter(**{f"{user_model.USERNAME_FIELD}__iexact": candidate}).exists():
            account = account_services.create_service_account(
                candidate, description=f"SCIM provisioning of realm {realm.name}", groups=[group]
            )
            account.realm = realm
            account.save(update_fields=["realm"])
            return account, True
    raise ValidationError(f"No free username for the service account of realm {realm.name}.")


def _free_candidates(base: str):
    limit = _username_max_length()
    yield base
    for n in range(2, 100):
        suffix = f"-{n}"
        yield base[: limit - len(suffix)].rstrip("-") + suffix


def _username_max_length() -> int:
    user_model = get_user_model()
    return user_model._meta.get_field(user_model.USERNAME_FIELD).max_length or 150


_SEPARATORS = re.compile(r"[^a-z0-9]+")


def service_account_username(realm_name: str) -> str:
    """A readable username for a realm's service account: "Okta Prod \u2013 Europe (Zürich)" becomes
    scim-okta-prod-europe-zurich. Accents are dropped as the console's search drops them (realms.sql.search.fold),
    every run of other characters becomes one hyphen, so the name passes the host's username validation
    (AbstractUser's letters, digits and @/./+/-/_). A name with no Latin letter or digit gives scim-realm."""
    slug = _SEPARATORS.sub("-", fold(realm_name)).strip("-")
    limit = _username_max_length()
    name = f"scim-{slug or 'realm'}"
    if len(name) > limit:
        name = name[:limit].rsplit("-", 1)[0] if "-" in name[5:limit] else name[:limit]
    return name


@transaction.atomic
def scim_quickstart(realm_name: str, service_account: str | None = None) -> QuickstartResult:
    """Create or reuse an Okta realm with SCIM on, a group with the eight SCIM permissions, a service account in
    it, and issue a fresh token: everything Okta's Provisioning tab needs, in one call (connect_okta, from a shell)."""
    realm = realm_by_name(realm_name)
    realm_created = realm is None
    if realm is None:
        realm = create_realm(realm_name, scim_enabled=True)
    connection = connect_okta(realm, service_account=service_account, force=True)
    return QuickstartResult(realm, connection.group, connection.service_account, connection.secret, realm_created)
