"""Identity realms and what identity providers push into them.

Realm users and groups keep two things: indexed columns for what is looked up and sorted (userName, externalId,
active, displayName, names, emails), and `attributes`, the whole SCIM representation as the IdP sent it (core,
enterprise and custom extensions), so nothing an IdP sends is lost. The columns are derived from `attributes` by
the services; views never write either directly.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from .conf import app_settings


def default_login_session_expiry() -> int:
    return app_settings.DEFAULT_LOGIN_SESSION_EXPIRY


REALM_NAME_TAKEN = "A realm with this name already exists (names are compared ignoring letter case)."


class Realm(models.Model):
    class Backend(models.TextChoices):
        OKTA = "okta", "Okta"

    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    backend = models.CharField(max_length=32, choices=Backend.choices, default=Backend.OKTA)
    enabled_for_login = models.BooleanField(
        default=False,
        help_text="Offer a “Sign in with …” button named after this realm on the console login page (needs the IdP "
        "metadata).",
    )
    scim_enabled = models.BooleanField(
        "SCIM enabled", default=False, help_text="Accept users and groups pushed by the IdP over SCIM 2.0."
    )
    # SAML settings of the Okta application
    idp_metadata = models.TextField(
        "IdP metadata", blank=True, help_text="The SAML IdP metadata XML of the Okta application."
    )
    allow_idp_initiated_login = models.BooleanField("allow IdP-initiated login", default=True)
    allow_weak_signature_algorithms = models.BooleanField(
        "allow weak signature algorithms",
        default=False,
        help_text="Also accept sign-in responses signed with RSA-SHA1, or with SHA-1 or MD5 digests. Off, only "
        "SHA-256 or stronger is accepted: turn it on only for an IdP that cannot sign otherwise.",
    )
    login_session_expiry = models.PositiveIntegerField(
        default=default_login_session_expiry,
        help_text="Lifetime in seconds of a console session opened through this realm.",
    )
    # Claim mappings: SAML attribute names of the assertion
    username_claim = models.CharField(max_length=255, default="username")
    email_claim = models.CharField(max_length=255, blank=True, default="email")
    first_name_claim = models.CharField(max_length=255, blank=True, default="first_name")
    last_name_claim = models.CharField(max_length=255, blank=True, default="last_name")
    full_name_claim = models.CharField(max_length=255, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # "okta" next to "Okta" is one realm named twice: an admin cannot tell them apart in a list.
            models.UniqueConstraint(
                Lower("name"),
                name="realm_unique_name_ci",
                violation_error_message=REALM_NAME_TAKEN,
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # A session that expires at once is a realm whose sign-in never works: refused in every form (console,
        # Django admin), without a migration.
        if self.login_session_expiry is not None and self.login_session_expiry <= 0:
            raise ValidationError({"login_session_expiry": "The session expiry must be positive."})

    @property
    def pk_str(self) -> str:
        return str(self.pk)


class RealmUser(models.Model):
    """A user pushed by an IdP (SCIM User resource, RFC 7643 §4.1) or created at SAML sign-in."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the composite and unique indexes below all start with realm_id and serve every query
    # by realm alone (a lone realm_id index only cost every write an index entry; migration 0007).
    realm = models.ForeignKey(Realm, on_delete=models.CASCADE, related_name="users", db_index=False)
    username = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255, null=True, blank=True)
    active = models.BooleanField(default=True)
    display_name = models.CharField(max_length=255, blank=True)
    given_name = models.CharField(max_length=255, blank=True)
    family_name = models.CharField(max_length=255, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    version = models.PositiveBigIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "realm user"
        constraints = [
            # RFC 7643 §4.1.1: userName is caseExact false and unique within the realm.
            models.UniqueConstraint(F("realm"), Lower("username"), name="realmuser_unique_username_ci"),
            models.UniqueConstraint(
                fields=["realm", "external_id"],
                condition=Q(external_id__isnull=False),
                name="realmuser_unique_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["realm", "created_at", "id"], name="realmuser_realm_created"),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def full_name(self) -> str:
        name = self.attributes.get("name") if isinstance(self.attributes, dict) else None
        if isinstance(name, dict) and isinstance(name.get("formatted"), str) and name["formatted"]:
            return name["formatted"]
        return " ".join(p for p in (self.given_name, self.family_name) if p) or self.display_name


class RealmEmail(models.Model):
    """Indexed copy of a realm user's emails (the SCIM `emails` attribute) for lookups and filters."""

    user = models.ForeignKey(RealmUser, on_delete=models.CASCADE, related_name="emails")
    value = models.CharField(max_length=320)
    type = models.CharField(max_length=64, blank=True)
    primary = models.BooleanField(default=False)

    class Meta:
        verbose_name = "realm email"
        indexes = [models.Index(Lower("value"), name="realmemail_value_ci")]

    def __str__(self) -> str:
        return self.value


class RealmGroup(models.Model):
    """A group pushed by an IdP (SCIM Group resource, RFC 7643 §4.2)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own, as RealmUser.realm: the indexes below start with realm_id.
    realm = models.ForeignKey(Realm, on_delete=models.CASCADE, related_name="groups", db_index=False)
    display_name = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255, null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    version = models.PositiveBigIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    members = models.ManyToManyField(RealmUser, through="RealmGroupMembership", related_name="groups")

    class Meta:
        verbose_name = "realm group"
        constraints = [
            models.UniqueConstraint(F("realm"), Lower("display_name"), name="realmgroup_unique_display_name_ci"),
            models.UniqueConstraint(
                fields=["realm", "external_id"],
                condition=Q(external_id__isnull=False),
                name="realmgroup_unique_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["realm", "created_at", "id"], name="realmgroup_realm_created"),
        ]

    def __str__(self) -> str:
        return self.display_name


class RealmCounts(models.Model):
    """How many users and groups a realm holds: SCIM's `totalResults` of an unfiltered list without counting.

    Kept by database triggers (migrations 0002 and 0006) on every insert and delete of a realm user or group,
    whatever makes the change (SCIM, SAML sign-in, the admin, a bulk load), in the same transaction. Never written
    by Python.

    `users_moved` and `groups_moved` say whether the positions of a list in its default order (created_at, id) may
    have moved: SCIM's paging remembers where pages start while they hold (scim/views/paging.py). They move only
    with a change that can move a row that stays, a row inserted or deleted before another one, a row moved to
    another realm or given another created_at; not with a row inserted after every row (a new user, almost always)
    nor with the newest row deleted (the triggers of migration 0006 say why that is exact).
    """

    realm = models.OneToOneField(Realm, on_delete=models.CASCADE, primary_key=True, related_name="counts")
    users = models.BigIntegerField(default=0)
    groups = models.BigIntegerField(default=0)
    # Moves forward with every insert and delete counted.
    changes = models.BigIntegerField(default=0)
    users_moved = models.BigIntegerField(default=0)
    # The newest created_at of a user ever in the realm (not lowered by a delete): a user created later comes after
    # every user in the list, so it moves no position.
    users_newest_at = models.DateTimeField(null=True, blank=True)
    groups_moved = models.BigIntegerField(default=0)
    groups_newest_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "realm counts"
        verbose_name_plural = "realm counts"

    def __str__(self) -> str:
        return f"{self.realm_id}: {self.users} users, {self.groups} groups"


class RealmGroupMembership(models.Model):
    group = models.ForeignKey(RealmGroup, on_delete=models.CASCADE, related_name="memberships", db_index=False)
    user = models.ForeignKey(RealmUser, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "realm group membership"
        constraints = [
            # (group, user) order also serves "members of a group" lookups.
            models.UniqueConstraint(fields=["group", "user"], name="realmgroupmembership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"


class AuditEvent(models.Model):
    """An identity change: every SCIM write, and later role changes. Append-only (no update or delete anywhere)."""

    class Action(models.TextChoices):
        USER_CREATED = "user.created", "User created"
        USER_UPDATED = "user.updated", "User updated"
        USER_DEACTIVATED = "user.deactivated", "User deactivated"
        USER_REACTIVATED = "user.reactivated", "User reactivated"
        USER_DELETED = "user.deleted", "User deleted"
        GROUP_CREATED = "group.created", "Group created"
        GROUP_UPDATED = "group.updated", "Group updated"
        GROUP_DELETED = "group.deleted", "Group deleted"
        GROUP_MEMBERS_CHANGED = "group.members_changed", "Group membership changed"
        # Console roles given by realm groups (realms.services.roles) and the console users linked to realm users
        ROLE_MAPPING_ADDED = "role_mapping.added", "Role mapping added"
        ROLE_MAPPING_REMOVED = "role_mapping.removed", "Role mapping removed"
        ROLE_GRANTED = "role.granted", "Role granted"
        ROLE_REVOKED = "role.revoked", "Role revoked"
        CONSOLE_USER_CREATED = "console_user.created", "Console user created"
        CONSOLE_USER_DEACTIVATED = "console_user.deactivated", "Console user deactivated"
        CONSOLE_USER_REACTIVATED = "console_user.reactivated", "Console user reactivated"

    # The trail outlives its realm: a deleted realm's events stay, realm NULL (the roles it took away included).
    # No index of its own: auditevent_realm_created and auditevent_feed start with realm_id.
    realm = models.ForeignKey(
        Realm, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    actor_username = models.CharField(max_length=150, blank=True)
    token_hint = models.CharField(max_length=8, blank=True, help_text="Last characters of the API token used.")
    source = models.CharField(max_length=16, default="scim")
    action = models.CharField(max_length=32, choices=Action.choices)
    resource_type = models.CharField(max_length=16)
    resource_id = models.CharField(max_length=64)
    resource_repr = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The change feed's order (realms/api/events.py), set by a trigger (migration realms.0005) whatever the INSERT
    # says: on PostgreSQL the id of the transaction that wrote the event (0 for the events recorded before that
    # migration); on SQLite, whose writes are serialised (id order is commit order), the event's own id.
    txid = models.BigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = "audit event"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["realm", "-created_at"], name="auditevent_realm_created"),
            models.Index(fields=["resource_id", "-created_at"], name="auditevent_resource"),
            models.Index(fields=["realm", "txid", "id"], name="auditevent_feed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.resource_repr or self.resource_id}"


# ---------------------------------------------------------------------------------------------- SAML sign-in, roles


class ConsoleUserLink(models.Model):
    """The console user a realm user signs in as.

    Kept apart from RealmUser so that it outlives a SCIM DELETE (realm_user becomes NULL): the console user stays
    deactivated and bound to its realm, and a user re-created later with the same userName gets it back instead of
    colliding with it. `deactivated_by_realm` tells a deactivation made by SCIM (undone by a reactivation) from one
    made by hand by an administrator (never undone automatically).
    """

    realm = models.ForeignKey(Realm, on_delete=models.CASCADE, related_name="console_links")
    console_user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="realm_link")
    realm_user = models.OneToOneField(
        RealmUser, on_delete=models.SET_NULL, null=True, blank=True, related_name="console_link"
    )
    deactivated_by_realm = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "console user link"

    def __str__(self) -> str:
        return f"{self.console_user_id} ↔ {self.realm_user_id}"


class RealmGroupRoleMapping(models.Model):
    """Members of `realm_group` hold the console role `role` (a Django group) while they are active."""

    realm_group = models.ForeignKey(RealmGroup, on_delete=models.CASCADE, related_name="role_mappings")
    role = models.ForeignKey("auth.Group", on_delete=models.CASCADE, related_name="realm_group_mappings")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "realm group role mapping"
        constraints = [models.UniqueConstraint(fields=["realm_group", "role"], name="realmgrouprolemapping_unique")]

    def __str__(self) -> str:
        return f"{self.realm_group_id} → {self.role_id}"


class RealmGrantedRole(models.Model):
    """A role that role mappings gave a console user: only these are ever revoked, never roles given by hand."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="realm_granted_roles")
    role = models.ForeignKey("auth.Group", on_delete=models.CASCADE, related_name="+")
    realm = models.ForeignKey(Realm, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "realm granted role"
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="realmgrantedrole_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} holds {self.role_id}"


class SAMLAuthnRequest(models.Model):
    """An SP-initiated AuthnRequest waiting for its response, found again by its RelayState.

    Stored server-side, not in the session: the IdP POSTs to the ACS cross-site, and a SameSite=Lax session cookie
    is not sent with that POST. Each row is used once.
    """

    realm = models.ForeignKey(Realm, on_delete=models.CASCADE, related_name="+")
    request_id = models.CharField(max_length=255, unique=True)
    relay_state = models.CharField(max_length=64, unique=True)
    next_url = models.CharField(max_length=2048, blank=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "SAML authentication request"

    def __str__(self) -> str:
        return self.request_id


class SAMLConsumedAssertion(models.Model):
    """IDs of assertions already used to sign in, kept until they expire, so that a replayed one is refused."""

    realm = models.ForeignKey(Realm, on_delete=models.CASCADE, related_name="+")
    assertion_id = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "SAML consumed assertion"
        constraints = [
            models.UniqueConstraint(fields=["realm", "assertion_id"], name="samlconsumedassertion_unique"),
        ]

    def __str__(self) -> str:
        return self.assertion_id


class RealmLoginSession(models.Model):
    """The console sessions opened through a realm, so that a SCIM deactivation can end them at once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="realm_login_sessions")
    realm = models.ForeignKey(Realm, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "realm login session"

    def __str__(self) -> str:
        return f"{self.user_id} via {self.realm_id}"


# ------------------------------------------------------------------------------------ service accounts and API tokens


class ServiceAccount(models.Model):
    """A user of the host's AUTH_USER_MODEL that authenticates with API tokens only.

    Its user has no usable password, is never staff or superuser, and is refused by every login
    (realms.receivers): whatever the host's user model and authentication backends, it can only call the APIs its
    groups' permissions allow.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="realms_service_account"
    )
    description = models.TextField(blank=True)
    # The realm whose Connect Okta made this account: it is reused for that realm only, never found by its name.
    realm = models.OneToOneField(
        Realm,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="scim_service_account",
        help_text="The realm this account provisions (Connect Okta): it is never shared with another realm.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "service account"
        verbose_name_plural = "service accounts"
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.username

    @property
    def username(self) -> str:
        return self.user.get_username()

    @property
    def is_active(self) -> bool:
        return self.user.is_active


class APITokenQuerySet(models.QuerySet):
    def active(self) -> APITokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class APIToken(models.Model):
    """An API token. Only its SHA-256 is stored; the secret is shown once, when it is issued."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="realms_api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'Okta provisioning'.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=8, editable=False, help_text="Last characters of the token.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Leave empty for a token that never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    realm = models.ForeignKey(
        Realm,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Restrict the token to this realm's SCIM API (404 on every other realm). Empty: every realm.",
    )

    objects = APITokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        verbose_name_plural = "API tokens"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} (…{self.hint})"

    @property
    def masked(self) -> str:
        return f"{app_settings.TOKEN_PREFIX}…{self.hint}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def status(self) -> str:
        if self.is_revoked:
            return "revoked"
        if self.is_expired:
            return "expired"
        return "active"


def is_service_account(user: Any) -> bool:
    """Whether `user` (any AUTH_USER_MODEL instance, or None/anonymous) is a service account."""
    if user is None or getattr(user, "pk", None) is None:
        return False
    known = getattr(user, "realms_is_service_account", None)  # read with an API token (realms.sql.token_query)
    if known is not None:
        return known
    try:
        return user.realms_service_account is not None
    except ServiceAccount.DoesNotExist:
        return False
