"""Create, replace and delete realm users and groups, change memberships, and record each change.

These functions know nothing of SCIM's wire format: the SCIM layer parses and validates a request into
UserData/GroupData and membership changes, and maps the errors raised here to SCIM errors. Each function runs in
one transaction, so a request either applies whole or not at all. Membership changes cost queries in proportion
to the change, never to the size of the group.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Lower
from django.utils import timezone

from ..models import AuditEvent, Realm, RealmEmail, RealmGroup, RealmGroupMembership, RealmUser
from . import roles


class IdentityError(Exception):
    """A change that cannot be applied; the message tells the IdP admin what was wrong."""


class UniquenessError(IdentityError):
    def __init__(self, attribute: str, value: str, message: str) -> None:
        super().__init__(message)
        self.attribute = attribute
        self.value = value


class UnknownMembers(IdentityError):
    def __init__(self, ids: Sequence[str]) -> None:
        self.ids = list(ids)
        listed = ", ".join(self.ids[:20]) + (" …" if len(self.ids) > 20 else "")
        super().__init__(f"No user with id {listed} in this realm: members must be users of the same realm.")


class VersionMismatch(IdentityError):
    def __init__(self, current: int) -> None:
        super().__init__(f'The resource has changed: its current version is W/"{current}".')
        self.current = current


@dataclass(frozen=True)
class Actor:
    """Who made a change: the service account and the last characters of its token."""

    user: Any = None
    token_hint: str = ""
    source: str = "scim"

    @property
    def username(self) -> str:
        return self.user.get_username() if self.user is not None else ""


@dataclass(frozen=True)
class EmailData:
    value: str
    type: str = ""
    primary: bool = False


@dataclass
class UserData:
    """A realm user's full state: indexed columns plus every attribute as the IdP sent it."""

    username: str
    attributes: dict[str, Any]
    external_id: str | None = None
    active: bool = True
    display_name: str = ""
    given_name: str = ""
    family_name: str = ""
    emails: list[EmailData] = field(default_factory=list)


@dataclass
class GroupData:
    display_name: str
    attributes: dict[str, Any]
    external_id: str | None = None


@dataclass(frozen=True)
class MembershipChange:
    """Members to add and remove, or (replace_ids not None) the exact new member list."""

    add_ids: tuple[uuid.UUID, ...] = ()
    remove_ids: tuple[uuid.UUID, ...] = ()
    replace_ids: tuple[uuid.UUID, ...] | None = None
    remove_all: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.add_ids or self.remove_ids or self.replace_ids is not None or self.remove_all)


# ---------------------------------------------------------------------------------------------------- audit


def _record(
    realm: Realm,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: Any,
    resource_repr: str,
    changes: dict[str, Any],
) -> AuditEvent:
    return AuditEvent.objects.create(
        realm=realm,
        actor=actor.user,
        actor_username=actor.username[:150],
        token_hint=actor.token_hint,
        source=actor.source,
        action=action,
        resource_type=resource_type,
        resource_id=str(resource_id),
        resource_repr=resource_repr[:255],
        changes=changes,
    )


def _diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Top-level attributes that changed, with their old and new values (absent is None)."""
    changes = {}
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            changes[key] = {"old": old.get(key), "new": new.get(key)}
    return changes


# ---------------------------------------------------------------------------------------------------- users


def _username_taken(realm: Realm, username: str, exclude_pk: Any = None) -> bool:
    qs = RealmUser.objects.filter(realm=realm).alias(lu=Lower("username")).filter(lu=Lower(Value(username)))
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _user_external_id_taken(realm: Realm, external_id: str | None, exclude_pk: Any = None) -> bool:
    if external_id is None:
        return False
    qs = RealmUser.objects.filter(realm=realm, external_id=external_id)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _check_user_uniqueness(realm: Realm, data: UserData, exclude_pk: Any = None) -> None:
    if _username_taken(realm, data.username, exclude_pk):
        raise UniquenessError(
            "userName", data.username, f"A user with userName '{data.username}' already exists in this realm."
        )
    if _user_external_id_taken(realm, data.external_id, exclude_pk):
        raise UniquenessError(
            "externalId", data.external_id or "", f"A user with externalId '{data.external_id}' already exists."
        )


def _apply_user_data(user: RealmUser, data: UserData) -> None:
    user.username = data.username
    user.external_id = data.external_id
    user.active = data.active
    user.display_name = data.display_name[:255]
    user.given_name = data.given_name[:255]
    user.family_name = data.family_name[:255]
    user.attributes = data.attributes


def _email_rows(user: RealmUser, emails: Iterable[EmailData]) -> list[RealmEmail]:
    return [RealmEmail(user=user, value=e.value[:320], type=e.type[:64], primary=e.primary) for e in emails]


def _save_checked(save, check) -> None:
    """Save inside a savepoint; on a unique violation (a race the pre-check missed), re-check to name the culprit."""
    try:
        with transaction.atomic():
            save()
    except IntegrityError:
        check()
        raise


@transaction.atomic
def create_user(realm: Realm, data: UserData, actor: Actor) -> RealmUser:
    _check_user_uniqueness(realm, data)
    user = RealmUser(realm=realm)
    _apply_user_data(user, data)
    _save_checked(user.save, lambda: _check_user_uniqueness(realm, data))
    if data.emails:
        RealmEmail.objects.bulk_create(_email_rows(user, data.emails))
    _record(realm, actor, AuditEvent.Action.USER_CREATED, "User", user.pk, user.username, _diff({}, data.attributes))
    return user


def _locked_user(user: RealmUser, expected_version: int | None) -> RealmUser:
    locked = RealmUser.objects.select_for_update().get(pk=user.pk)
    if expected_version is not None and locked.version != expected_version:
        raise VersionMismatch(locked.version)
    return locked


@transaction.atomic
def replace_user(user: RealmUser, data: UserData, actor: Actor, expected_version: int | None = None) -> RealmUser:
    """Replace every attribute of `user` (RFC 7644 §3.5.1 semantics: what is absent is cleared)."""
    user = _locked_user(user, expected_version)
    realm = user.realm
    old_attributes = user.attributes
    old_active = user.active
    old_emails = sorted((e.value, e.type, e.primary) for e in user.emails.all())
    if data.username.lower() != user.username.lower() or data.external_id != user.external_id:
        _check_user_uniqueness(realm, data, exclude_pk=user.pk)
    changes = _diff(old_attributes, data.attributes)
    if not changes and old_active == data.active:
        return user  # nothing changed: no write, no new version, no audit event
    _apply_user_data(user, data)
    user.version = F("version") + 1
    _save_checked(user.save, lambda: _check_user_uniqueness(realm, data, exclude_pk=user.pk))
    user.refresh_from_db(fields=["version", "updated_at"])
    if sorted((e.value, e.type, e.primary) for e in data.emails) != old_emails:
        RealmEmail.objects.filter(user=user).delete()
        RealmEmail.objects.bulk_create(_email_rows(user, data.emails))
    if old_active and not data.active:
        action = AuditEvent.Action.USER_DEACTIVATED
    elif not old_active and data.active:
        action = AuditEvent.Action.USER_REACTIVATED
    else:
        action = AuditEvent.Action.USER_UPDATED
    _record(realm, actor, action, "User", user.pk, user.username, changes)
    if old_active != data.active:
        roles.on_user_active_changed(user, actor)  # the linked console user's roles and sessions, same commit
    return user


@transaction.atomic
def delete_user(user: RealmUser, actor: Actor, expected_version: int | None = None) -> None:
    user = _locked_user(user, expected_version)
    group_ids = list(RealmGroupMembership.objects.filter(user=user).values_list("group_id", flat=True))
    if group_ids:
        RealmGroup.objects.filter(pk__in=group_ids).update(version=F("version") + 1, updated_at=timezone.now())
    _record(user.realm, actor, AuditEvent.Action.USER_DELETED, "User", user.pk, user.username, {})
    roles.on_user_deleted(user, actor)
    user.delete()


# ---------------------------------------------------------------------------------------------------- groups


def _group_name_taken(realm: Realm, name: str, exclude_pk: Any = None) -> bool:
    qs = RealmGroup.objects.filter(realm=realm).alias(ln=Lower("display_name")).filter(ln=Lower(Value(name)))
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _check_group_uniqueness(realm: Realm, data: GroupData, exclude_pk: Any = None) -> None:
    if _group_name_taken(realm, data.display_name, exclude_pk):
        raise UniquenessError(
            "displayName",
            data.display_name,
            f"A group with displayName '{data.display_name}' already exists in this realm.",
        )
    if data.external_id is not None:
        qs = RealmGroup.objects.filter(realm=realm, external_id=data.external_id)
        if exclude_pk is not None:
            qs = qs.exclude(pk=exclude_pk)
        if qs.exists():
            raise UniquenessError(
                "externalId", data.external_id, f"A group with externalId '{data.external_id}' already exists."
            )


def _realm_user_names(realm: Realm, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """userName by id for the given ids that are users of the realm (one query)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    return dict(RealmUser.objects.filter(realm=realm, pk__in=ids).values_list("pk", "username"))


def _apply_membership(group: RealmGroup, change: MembershipChange) -> dict[str, list[dict[str, str]]]:
    """Apply a membership change; return what really changed: {"added": [...], "removed": [...]}."""
    realm = group.realm
    add_ids = list(dict.fromkeys(change.add_ids))
    remove_ids = list(dict.fromkeys(change.remove_ids))
    if change.replace_ids is not None or change.remove_all:
        # Replacing the whole list needs the current list: this one is proportional to the group's size.
        wanted = list(dict.fromkeys(change.replace_ids or ()))
        current = set(RealmGroupMembership.objects.filter(group=group).values_list("user_id", flat=True))
        wanted_set = set(wanted)
        add_ids = [i for i in wanted if i not in current] + [i for i in add_ids if i not in wanted_set]
        remove_ids = [i for i in current if i not in wanted_set]
    added: list[dict[str, str]] = []
    removed: list[dict[str, str]] = []
    if add_ids:
        names = _realm_user_names(realm, add_ids)
        unknown = [str(i) for i in add_ids if i not in names]
        if unknown:
            raise UnknownMembers(unknown)
        already = set(
            RealmGroupMembership.objects.filter(group=group, user_id__in=add_ids).values_list("user_id", flat=True)
        )
        new_ids = [i for i in add_ids if i not in already]
        if new_ids:
            RealmGroupMembership.objects.bulk_create(
                [RealmGroupMembership(group=group, user_id=i) for i in new_ids], ignore_conflicts=True
            )
            added = [{"id": str(i), "userName": names[i]} for i in new_ids]
    if remove_ids:
        rows = list(
            RealmGroupMembership.objects.filter(group=group, user_id__in=remove_ids).values_list(
                "pk", "user_id", "user__username"
            )
        )
        if rows:
            RealmGroupMembership.objects.filter(pk__in=[r[0] for r in rows]).delete()
            removed = [{"id": str(r[1]), "userName": r[2]} for r in rows]
    touched = [uuid.UUID(m["id"]) for m in added + removed]
    if touched:
        # A user's `groups` attribute changed: move its version (and ETag) forward too.
        RealmUser.objects.filter(pk__in=touched).update(version=F("version") + 1, updated_at=timezone.now())
    return {"added": added, "removed": removed}


@transaction.atomic
def create_group(realm: Realm, data: GroupData, actor: Actor, member_ids: Sequence[uuid.UUID] = ()) -> RealmGroup:
    _check_group_uniqueness(realm, data)
    group = RealmGroup(
        realm=realm, display_name=data.display_name, external_id=data.external_id, attributes=data.attributes
    )
    _save_checked(group.save, lambda: _check_group_uniqueness(realm, data))
    changes: dict[str, Any] = _diff({}, data.attributes)
    if member_ids:
        delta = _apply_membership(group, MembershipChange(add_ids=tuple(member_ids)))
        changes["members"] = delta
    _record(realm, actor, AuditEvent.Action.GROUP_CREATED, "Group", group.pk, group.display_name, changes)
    return group


def _locked_group(group: RealmGroup, expected_version: int | None) -> RealmGroup:
    locked = RealmGroup.objects.select_for_update().select_related("realm").get(pk=group.pk)
    if expected_version is not None and locked.version != expected_version:
        raise VersionMismatch(locked.version)
    return locked


@transaction.atomic
def update_group(
    group: RealmGroup,
    actor: Actor,
    data: GroupData | None = None,
    membership: MembershipChange | None = None,
    expected_version: int | None = None,
) -> RealmGroup:
    """Change a group's attributes (data: the full new state) and/or its members, in one transaction."""
    group = _locked_group(group, expected_version)
    realm = group.realm
    changes: dict[str, Any] = {}
    if data is not None:
        changes = _diff(group.attributes, data.attributes)
        if changes:
            if data.display_name.lower() != group.display_name.lower() or data.external_id != group.external_id:
                _check_group_uniqueness(realm, data, exclude_pk=group.pk)
            group.display_name = data.display_name
            group.external_id = data.external_id
            group.attributes = data.attributes
    delta = {"added": [], "removed": []}
    if membership is not None and not membership.is_empty:
        delta = _apply_membership(group, membership)
    members_changed = bool(delta["added"] or delta["removed"])
    if members_changed:
        roles.on_members_changed(group, [m["id"] for m in delta["added"] + delta["removed"]], actor)
    if not changes and not members_changed:
        return group  # Okta renames to the same name with every membership update: a no-op, not an error
    group.version = F("version") + 1
    _save_checked(group.save, lambda: _check_group_uniqueness(realm, data, exclude_pk=group.pk) if data else None)
    group.refresh_from_db(fields=["version", "updated_at"])
    if changes:
        if members_changed:
            changes["members"] = delta
        _record(realm, actor, AuditEvent.Action.GROUP_UPDATED, "Group", group.pk, group.display_name, changes)
    else:
        _record(
            realm,
            actor,
            AuditEvent.Action.GROUP_MEMBERS_CHANGED,
            "Group",
            group.pk,
            group.display_name,
            {"members": delta},
        )
    return group


@transaction.atomic
def delete_group(group: RealmGroup, actor: Actor, expected_version: int | None = None) -> None:
    group = _locked_group(group, expected_version)
    member_ids = list(RealmGroupMembership.objects.filter(group=group).values_list("user_id", flat=True)[:100_000])
    _record(group.realm, actor, AuditEvent.Action.GROUP_DELETED, "Group", group.pk, group.display_name, {})
    roles.on_group_deleted(group, actor)
    group.delete()
    if member_ids:
        RealmUser.objects.filter(pk__in=member_ids).update(version=F("version") + 1, updated_at=timezone.now())
