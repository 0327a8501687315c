"""Create, replace and delete realm users and groups, change memberships, and record each change.

These functions know nothing of SCIM's wire format: the SCIM layer parses and validates a request into
UserData/GroupData and membership changes, and maps the errors raised here to SCIM errors. Each function runs in
one transaction (joining the caller's, without a savepoint, when there is one), so a request either applies whole
or not at all. The row being changed is locked (`locked_user`/`locked_group`, which a caller may take itself before
computing the change, as the SCIM PATCH view does) so that concurrent writes never lose one another's changes.
Membership changes cost queries in proportion to the change, never to the size of the group. Each change is
announced by its public signal (realms.signals) once committed, here and nowhere else (`audit.announce`).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Value
from django.db.models.functions import Lower
from django.utils import timezone

from .. import signals
from ..models import AuditEvent, Realm, RealmEmail, RealmGroup, RealmGroupMembership, RealmUser
from ..sql import (
    lookups,  # noqa: F401 (registers `__in_array`: id lists of any length as one parameter)
    queries,
    table_fields,
)
from ..sql.aggregates import decode_emails
from ..sql.writes import save_if_version, save_together
from . import roles
from .audit import Actor, announce_group, announce_group_members, announce_user, audit_event


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


def _diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Top-level attributes that changed, with their old and new values (absent is None)."""
    changes = {}
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            changes[key] = {"old": old.get(key), "new": new.get(key)}
    return changes


# ---------------------------------------------------------------------------------------------------- uniqueness


def _uniqueness_error(attribute: str, value: str | None, resource: str, existing: str | None = None) -> UniquenessError:
    """The 409's detail (shown to the Okta admin in its failed task): the value that is taken, as the EXISTING
    resource holds it. userName and displayName ignore letter case (RFC 7643 caseExact false), so a request for
    ALICE.MARTIN@… names the existing alice.martin@…, and what was sent."""
    where = "in this realm" if attribute in {"userName", "displayName"} else "in this realm (externalId)"
    if existing is not None and existing != value:
        return UniquenessError(
            attribute,
            existing,
            f"A {resource} with {attribute} '{existing}' already exists {where}: '{value}' was sent, and {attribute} "
            "ignores letter case.",
        )
    return UniquenessError(attribute, value or "", f"A {resource} with {attribute} '{value}' already exists {where}.")


def _existing_name(model: type, realm_id: Any, name: str, exclude_pk: Any = None) -> str | None:
    """The name the existing row holds, read on the conflict path only (never before a write: the SCIM hot path
    keeps its cost). None when it cannot be read (a transaction the failed statement broke, a row gone since)."""
    field = _NAME_FIELDS[model]
    rows = model.objects.alias(lname=Lower(field)).filter(realm_id=realm_id, lname=Lower(Value(name)))
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    try:
        return rows.values_list(field, flat=True).first()
    except DatabaseError:
        return None


def _conflict_from_integrity_error(
    exc: IntegrityError,
    resource: str,
    name_attr: str,
    name: str,
    ext: str | None,
    *,
    model: type | None = None,
    realm_id: Any = None,
    exclude_pk: Any = None,
):
    """The database's unique index refused the row (a create, or a rename racing another). Name the attribute from
    the constraint (PostgreSQL's diagnostics, SQLite's message); for a name, read the existing one (`model`)."""
    cause = exc.__cause__
    constraint = getattr(getattr(cause, "diag", None), "constraint_name", None) or str(exc)
    if "external_id" in constraint:
        return _uniqueness_error("externalId", ext, resource)
    if "username" in constraint or "display_name" in constraint or "displayname" in constraint:
        existing = _existing_name(model, realm_id, name, exclude_pk) if model is not None else None
        return _uniqueness_error(name_attr, name, resource, existing)
    raise exc  # not a uniqueness conflict (a realm deleted meanwhile, say): not the client's mistake


_NAME_FIELDS = {RealmUser: "username", RealmGroup: "display_name"}


def _check_rename(obj: RealmUser | RealmGroup, name_attr: str, name: str, external_id: str | None) -> None:
    """Before a rename: one query for both unique attributes, so that a taken one is named without a failed
    statement (a create needs no such query: the unique indexes refuse its row, named by the constraint)."""
    rows = queries.rename_conflicts(type(obj), _NAME_FIELDS[type(obj)], obj.realm_id, obj.pk, name, external_id)
    if not rows:
        return
    resource = "user" if isinstance(obj, RealmUser) else "group"
    if external_id is not None and external_id in rows:
        raise _uniqueness_error("externalId", external_id, resource)
    raise _uniqueness_error(name_attr, name, resource, _existing_name(type(obj), obj.realm_id, name, obj.pk))


# ---------------------------------------------------------------------------------------------------- users


def _apply_user_data(user: RealmUser, data: UserData) -> None:
    user.username = data.username
    user.external_id = data.external_id
    user.active = data.active
    user.display_name = data.display_name[:255]
    user.given_name = data.given_name[:255]
    user.family_name = data.family_name[:255]
    user.attributes = data.attributes


@functools.cache
def _profile_update_fields(renamed: bool) -> tuple[str, ...]:
    """The columns Okta's profile PUT writes without the lock (`replace_user_if_unchanged`): every one but those
    that never change (id, realm, creation time) and those its checks keep as they are (active, externalId, and
    userName unless its letter case changed). On SQLite each column an UPDATE sets rewrites its indexes' entries,
    changed or not; a column added to the model is written unless named here."""
    kept = {"id", "realm", "created_at", "active", "external_id"} | (set() if renamed else {"username"})
    return tuple(f.name for f in table_fields(RealmUser) if f.name not in kept)


def _email_rows(user: RealmUser, emails: Iterable[EmailData]) -> list[RealmEmail]:
    return [RealmEmail(user=user, value=e.value[:320], type=e.type[:64], primary=e.primary) for e in emails]


def create_user(realm: Realm, data: UserData, actor: Actor) -> RealmUser:
    """A new user with its emails and audit event, all or nothing (one statement on PostgreSQL: no transaction
    needs opening for it). A taken userName or externalId is refused by the database's unique indexes, named by
    the constraint (no query before the insert: IdPs look a user up before creating it, so conflicts are rare).
    """
    user = RealmUser(realm=realm)
    _apply_user_data(user, data)
    event = audit_event(
        realm.pk, actor, AuditEvent.Action.USER_CREATED, "User", user.pk, user.username, _diff({}, data.attributes)
    )
    try:
        # One statement on PostgreSQL: SCIM's POST opens no transaction. Inside a caller's, a savepoint keeps it
        # usable after a conflict (ATOMIC_REQUESTS, say).
        save_together([user, *_email_rows(user, data.emails), event], isolated=True)
    except IntegrityError as exc:
        raise _conflict_from_integrity_error(
            exc, "user", "userName", data.username, data.external_id, model=RealmUser, realm_id=realm.pk
        ) from None
    announce_user(AuditEvent.Action.USER_CREATED, user, actor)
    return user


def locked_user(realm: Realm, pk: uuid.UUID) -> RealmUser | None:
    """The user, its row locked until the end of the caller's transaction (only this row: not the realm's).

    It comes with `emails_json` (a replacement compares them) and `groups_json` (a response shows them), read under
    the lock in the same hand-written query (realms/sql/queries.py).
    """
    user = queries.locked_user(realm.pk, pk)
    if user is not None:
        user.realm = realm
    return user


def _current_emails(user: RealmUser) -> list[tuple[str, str, bool]]:
    loaded = getattr(user, "emails_json", None)
    if loaded is not None:
        return decode_emails(loaded)
    return [(e.value, e.type, e.primary) for e in user.emails.all()]


def _lock(obj: Any, expected_version: int | None, locked: bool, fetch_locked) -> Any:
    """The row locked (unless the caller already holds the lock), and the If-Match version checked under it."""
    if not locked:
        current = fetch_locked(obj.realm, obj.pk)
        if current is None:
            raise IdentityError(f"The {obj._meta.verbose_name} {obj.pk} no longer exists: it was deleted meanwhile.")
        obj = current
    if expected_version is not None and obj.version != expected_version:
        raise VersionMismatch(obj.version)
    return obj


@transaction.atomic(savepoint=False)
def replace_user(
    user: RealmUser, data: UserData, actor: Actor, expected_version: int | None = None, *, locked: bool = False
) -> RealmUser:
    """Replace every attribute of `user` (RFC 7644 §3.5.1 semantics: what is absent is cleared)."""
    user = _lock(user, expected_version, locked, locked_user)
    realm = user.realm
    old_attributes = user.attributes
    old_active = user.active
    changes = _diff(old_attributes, data.attributes)
    if not changes and old_active == data.active:
        return user  # nothing changed: no write, no new version, no audit event
    if data.username.lower() != user.username.lower() or data.external_id != user.external_id:
        _check_rename(user, "userName", data.username, data.external_id)
    old_emails = sorted(_current_emails(user))
    _apply_user_data(user, data)
    user.version += 1  # the row is locked: no concurrent writer can have moved it
    new_emails: list[RealmEmail] = []
    if sorted((e.value, e.type, e.primary) for e in data.emails) != old_emails:
        RealmEmail.objects.filter(user=user).delete()
        new_emails = _email_rows(user, data.emails)
    if old_active and not data.active:
        action = AuditEvent.Action.USER_DEACTIVATED
    elif not old_active and data.active:
        action = AuditEvent.Action.USER_REACTIVATED
    else:
        action = AuditEvent.Action.USER_UPDATED
    event = audit_event(realm.pk, actor, action, "User", user.pk, user.username, changes)
    try:
        save_together([user, *new_emails, event])  # one statement on PostgreSQL
    except IntegrityError as exc:  # a rename racing another: the unique indexes decide
        raise _conflict_from_integrity_error(
            exc,
            "user",
            "userName",
            data.username,
            data.external_id,
            model=RealmUser,
            realm_id=realm.pk,
            exclude_pk=user.pk,
        ) from None
    if old_active != data.active:
        roles.on_user_active_changed(user, actor)  # the linked console user's roles and sessions, same commit
    announce_user(action, user, actor, changes)
    return user


def replace_user_if_unchanged(user: RealmUser, data: UserData, actor: Actor) -> RealmUser | None:
    """`replace_user` without a transaction or a row lock, from a `user` read without one (with its
    `emails_json`): the write is one statement that happens only if the row still holds the version read (compare
    and swap, realms.sql.writes.save_if_version). None when it did not happen, and the caller replaces under the row
    lock (`replace_user`), which decides again from the row as it then is: nothing is lost either way.

    The common case of Okta's profile updates (a PUT of its own representation, modified) goes this way, outside
    a caller's transaction: on PostgreSQL three round trips fewer; on SQLite the database's write lock is held for
    the writes only. What needs the lock goes the locked way: a change of `active` (the console user's roles and
    sessions change in the same transaction) and of userName or externalId (their uniqueness).
    """
    if not transaction.get_autocommit():
        return None
    if getattr(user, "emails_json", None) is None:
        return None
    changes = _diff(user.attributes, data.attributes)
    if not changes and user.active == data.active:
        return user  # nothing changed: no write, no new version, no audit event
    if user.active != data.active or data.username.lower() != user.username.lower():
        return None
    if data.external_id != user.external_id:
        return None
    old_version = user.version
    old_emails = sorted(_current_emails(user))
    update_fields = _profile_update_fields(renamed=data.username != user.username)
    _apply_user_data(user, data)
    user.version += 1
    emails_changed = sorted((e.value, e.type, e.primary) for e in data.emails) != old_emails
    new_emails = _email_rows(user, data.emails) if emails_changed else []
    event = audit_event(user.realm_id, actor, AuditEvent.Action.USER_UPDATED, "User", user.pk, user.username, changes)
    replace_emails = (RealmEmail, "user") if emails_changed else None
    if not save_if_version(
        user, old_version, inserts=[*new_emails, event], replace_children=replace_emails, update_fields=update_fields
    ):
        return None  # written meanwhile: the caller replaces under the lock
    announce_user(AuditEvent.Action.USER_UPDATED, user, actor, changes)  # autocommit: sent now, the row written
    return user


@transaction.atomic(savepoint=False)
def delete_user(user: RealmUser, actor: Actor, expected_version: int | None = None, *, locked: bool = False) -> None:
    user = _lock(user, expected_version, locked, locked_user)
    # The groups the user leaves change too (their members): their versions move forward, in one UPDATE.
    RealmGroup.objects.filter(pk__in=RealmGroupMembership.objects.filter(user=user).values("group_id")).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    # What was deleted, as the creation recorded it: every attribute, now gone.
    changes = _diff(user.attributes if isinstance(user.attributes, dict) else {}, {})
    save_together(
        [audit_event(user.realm_id, actor, AuditEvent.Action.USER_DELETED, "User", user.pk, user.username, changes)]
    )
    roles.on_user_deleted(user, actor)
    announce_user(AuditEvent.Action.USER_DELETED, user, actor)
    user.delete()


# ---------------------------------------------------------------------------------------------------- groups


def _apply_membership(group: RealmGroup, change: MembershipChange) -> dict[str, list[dict[str, str]]]:
    """Apply a membership change; return what really changed: {"added": [...], "removed": [...]}.

    Adds and removes cost four queries whatever their number and the group's size: the users concerned with
    their membership flag, one INSERT, one DELETE, and one UPDATE moving the users' versions forward.
    """
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
    if not add_ids and not remove_ids:
        return {"added": [], "removed": []}
    rows = (
        RealmUser.objects.filter(realm=realm, pk__in_array=list(dict.fromkeys(add_ids + remove_ids)))
        .annotate(is_member=Exists(RealmGroupMembership.objects.filter(group=group, user=OuterRef("pk"))))
        .values_list("pk", "username", "is_member")
    )
    known = {pk: (username, is_member) for pk, username, is_member in rows}
    unknown = [str(i) for i in add_ids if i not in known]
    if unknown:
        raise UnknownMembers(unknown)
    new_ids = [i for i in add_ids if not known[i][1]]
    gone_ids = [i for i in remove_ids if i in known and known[i][1] and i not in set(add_ids)]
    if new_ids:
        RealmGroupMembership.objects.bulk_create(
            [RealmGroupMembership(group=group, user_id=i) for i in new_ids], ignore_conflicts=True
        )
    if gone_ids:
        RealmGroupMembership.objects.filter(group=group, user_id__in_array=gone_ids).delete()
    added = [{"id": str(i), "userName": known[i][0]} for i in new_ids]
    removed = [{"id": str(i), "userName": known[i][0]} for i in gone_ids]
    touched = new_ids + gone_ids
    if touched:
        # A user's `groups` attribute changed: move its version (and ETag) forward too.
        RealmUser.objects.filter(pk__in_array=touched).update(version=F("version") + 1, updated_at=timezone.now())
    return {"added": added, "removed": removed}


def _save_group(group: RealmGroup, data: GroupData | None, event: AuditEvent | None = None) -> None:
    try:
        if event is None:
            # A new group: in a savepoint of the caller's transaction, so that a taken displayName can still be
            # read to name it in the 409 (a statement that failed leaves a transaction unusable on PostgreSQL).
            with transaction.atomic():
                group.save()
        else:
            save_together([group, event])
    except IntegrityError as exc:
        name = data.display_name if data else group.display_name
        ext = data.external_id if data else group.external_id
        raise _conflict_from_integrity_error(
            exc, "group", "displayName", name, ext, model=RealmGroup, realm_id=group.realm_id, exclude_pk=group.pk
        ) from None


@transaction.atomic(savepoint=False)
def create_group(realm: Realm, data: GroupData, actor: Actor, member_ids: Sequence[uuid.UUID] = ()) -> RealmGroup:
    """A new group (a taken displayName or externalId is refused as by create_user), with its first members."""
    group = RealmGroup(
        realm=realm, display_name=data.display_name, external_id=data.external_id, attributes=data.attributes
    )
    _save_group(group, data)
    group.has_role_mappings = False  # a new group maps to no role yet
    changes: dict[str, Any] = _diff({}, data.attributes)
    if member_ids:
        delta = _apply_membership(group, MembershipChange(add_ids=tuple(member_ids)))
        changes["members"] = delta
    save_together(
        [audit_event(realm.pk, actor, AuditEvent.Action.GROUP_CREATED, "Group", group.pk, group.display_name, changes)]
    )
    announce_group(signals.realm_group_created, group, actor, member_ids=changes.get("members", {}).get("added", []))
    return group


def locked_group(realm: Realm, pk: uuid.UUID) -> RealmGroup | None:
    """The group, its row locked until the end of the caller's transaction, with whether it maps to roles (the role
    hooks need it on every membership change), in one hand-written query (realms/sql/queries.py)."""
    group = queries.locked_group(realm.pk, pk)
    if group is not None:
        group.realm = realm
    return group


@transaction.atomic(savepoint=False)
def update_group(
    group: RealmGroup,
    actor: Actor,
    data: GroupData | None = None,
    membership: MembershipChange | None = None,
    expected_version: int | None = None,
    *,
    locked: bool = False,
) -> RealmGroup:
    """Change a group's attributes (data: the full new state) and/or its members, in one transaction."""
    group = _lock(group, expected_version, locked, locked_group)
    realm = group.realm
    changes: dict[str, Any] = {}
    old_name = group.display_name
    if data is not None:
        changes = _diff(group.attributes, data.attributes)
        if changes:
            if data.display_name.lower() != group.display_name.lower() or data.external_id != group.external_id:
                _check_rename(group, "displayName", data.display_name, data.external_id)
            group.display_name = data.display_name
            group.external_id = data.external_id
            group.attributes = data.attributes
    delta: dict[str, list[dict[str, str]]] = {"added": [], "removed": []}
    if membership is not None and not membership.is_empty:
        delta = _apply_membership(group, membership)
    members_changed = bool(delta["added"] or delta["removed"])
    if members_changed:
        roles.on_members_changed(group, [m["id"] for m in delta["added"] + delta["removed"]], actor)
    if not changes and not members_changed:
        return group  # Okta renames to the same name with every membership update: a no-op, not an error
    group.version += 1  # the row is locked: no concurrent writer can have moved it
    if changes:
        if members_changed:
            changes["members"] = delta
        action, recorded = AuditEvent.Action.GROUP_UPDATED, changes
    else:
        action, recorded = AuditEvent.Action.GROUP_MEMBERS_CHANGED, {"members": delta}
    event = audit_event(realm.pk, actor, action, "Group", group.pk, group.display_name, recorded)
    _save_group(group, data, event)  # the group and its audit event in one statement on PostgreSQL
    if group.display_name != old_name:
        announce_group(signals.realm_group_renamed, group, actor, old_name=old_name, new_name=group.display_name)
    announce_group_members(group, actor, delta)
    return group


@transaction.atomic(savepoint=False)
def delete_group(group: RealmGroup, actor: Actor, expected_version: int | None = None, *, locked: bool = False) -> None:
    group = _lock(group, expected_version, locked, locked_group)
    # The members leave with the group: the audit event keeps who they were (each one's history says so), read in
    # the query that finds whose version moves forward (no query more than before).
    members = list(
        RealmUser.objects.filter(memberships__group=group).order_by("username", "pk").values_list("pk", "username")
    )
    changes: dict[str, Any] = _diff(group.attributes if isinstance(group.attributes, dict) else {}, {})
    changes["members"] = {"added": [], "removed": [{"id": str(pk), "userName": name} for pk, name in members]}
    event = audit_event(
        group.realm_id, actor, AuditEvent.Action.GROUP_DELETED, "Group", group.pk, group.display_name, changes
    )
    save_together([event])
    roles.on_group_deleted(group, actor)
    announce_group(signals.realm_group_deleted, group, actor, member_ids=[pk for pk, _ in members])
    # Its members' `groups` change: their versions move forward, in one UPDATE, before the memberships go.
    if members:
        RealmUser.objects.filter(pk__in_array=[pk for pk, _ in members]).update(
            version=F("version") + 1, updated_at=timezone.now()
        )
    group.delete()
