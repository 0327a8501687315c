"""Console roles given by realm groups, and what a SCIM deactivation does to the linked console user.

A role is a Django group. A role mapping says "members of this realm group hold this role". A console user linked
to a realm user holds exactly the roles its realm groups map to, plus any given by hand: a `RealmGrantedRole` row
marks each role the mappings gave, and only marked roles are ever revoked.

The identity services call the `on_*` hooks inside their own transaction (the hooks open none: no savepoint
queries on the SCIM hot path), so a SCIM request that changes a
membership, deletes a group, deactivates or deletes a user changes the console roles in the same commit: no
waiting for the next sign-in. Superusers and service accounts are never touched. Each grant and revocation is an
audit event. Work is proportional to the console users concerned (linked users only), never to the realm's size.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import signals
from ..models import (
    AuditEvent,
    ConsoleUserLink,
    Realm,
    RealmGrantedRole,
    RealmGroup,
    RealmGroupMembership,
    RealmGroupRoleMapping,
    RealmLoginSession,
    RealmUser,
    is_service_account,
)
from .audit import Actor, announce, audit_event

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


@dataclass
class RoleChanges:
    """Roles granted and revoked, by console user id (role ids)."""

    granted: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    revoked: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))

    def merge(self, other: RoleChanges) -> None:
        for user_id, ids in other.granted.items():
            self.granted[user_id] |= ids
        for user_id, ids in other.revoked.items():
            self.revoked[user_id] |= ids


def is_protected(user: Any) -> bool:
    """Superusers and service accounts are never changed by mappings or deactivations."""
    return bool(getattr(user, "is_superuser", False) or is_service_account(user))


# ---------------------------------------------------------------------------------------------------- audit


def _event(link: ConsoleUserLink, actor: Actor, action: str, changes: dict[str, Any]) -> AuditEvent:
    user = link.console_user
    return audit_event(link.realm_id, actor, action, "ConsoleUser", user.pk, user.get_username(), changes)


# ---------------------------------------------------------------------------------------------------- sync


def _sync_batch(links: Sequence[ConsoleUserLink], actor: Actor, revoke_all: bool = False) -> RoleChanges:
    """Give each linked console user exactly its mapped roles; a constant number of queries per batch."""
    changes = RoleChanges()
    links = [link for link in links if not is_protected(link.console_user)]
    if not links:
        return changes
    user_ids = [link.console_user_id for link in links]
    # Desired roles: those mapped from the groups of active realm users whose console user is active.
    entitled = {
        link.realm_user_id: link.console_user_id
        for link in links
        if not revoke_all and link.realm_user_id is not None and link.realm_user.active and link.console_user.is_active
    }
    desired: dict[int, set[int]] = defaultdict(set)
    if entitled:
        memberships = list(
            RealmGroupMembership.objects.filter(user_id__in=list(entitled), group__role_mappings__isnull=False)
            .values_list("user_id", "group_id")
            .distinct()
        )
        group_ids = {g for _, g in memberships}
        roles_by_group: dict[Any, set[int]] = defaultdict(set)
        for group_id, role_id in RealmGroupRoleMapping.objects.filter(realm_group_id__in=group_ids).values_list(
            "realm_group_id", "role_id"
        ):
            roles_by_group[group_id].add(role_id)
        for realm_user_id, group_id in memberships:
            desired[entitled[realm_user_id]] |= roles_by_group[group_id]
    through = get_user_model().groups.through
    held: dict[int, set[int]] = defaultdict(set)
    for user_id, group_id in through.objects.filter(user_id__in=user_ids).values_list("user_id", "group_id"):
        held[user_id].add(group_id)
    marked: dict[int, set[int]] = defaultdict(set)
    for user_id, role_id in RealmGrantedRole.objects.filter(user_id__in=user_ids).values_list("user_id", "role_id"):
        marked[user_id].add(role_id)

    realm_of = {link.console_user_id: link.realm_id for link in links}
    new_through, new_marks = [], []
    for user_id in user_ids:
        grant = desired[user_id] - held[user_id]
        revoke = marked[user_id] - desired[user_id]
        if grant:
            changes.granted[user_id] = grant
            new_through += [through(user_id=user_id, group_id=r) for r in grant]
            new_marks += [
                RealmGrantedRole(user_id=user_id, role_id=r, realm_id=realm_of[user_id])
                for r in grant
                if r not in marked[user_id]
            ]
        if revoke:
            through.objects.filter(user_id=user_id, group_id__in=revoke).delete()
            RealmGrantedRole.objects.filter(user_id=user_id, role_id__in=revoke).delete()
            # Only roles the user really held are news; a stale mark (removed by hand) is just cleaned up.
            revoked_held = revoke & held[user_id]
            if revoked_held:
                changes.revoked[user_id] = revoked_held
    if new_through:
        through.objects.bulk_create(new_through, ignore_conflicts=True)
    if new_marks:
        RealmGrantedRole.objects.bulk_create(new_marks, ignore_conflicts=True)
    _record_changes(links, actor, changes)
    return changes


def _record_changes(links: Sequence[ConsoleUserLink], actor: Actor, changes: RoleChanges) -> None:
    role_ids = set().union(*changes.granted.values(), *changes.revoked.values())
    if not role_ids:
        return
    found = Group.objects.in_bulk(role_ids)  # id and name: the same query as for the names alone
    names = {pk: role.name for pk, role in found.items()}
    by_user = {link.console_user_id: link for link in links}
    events = []
    for action, per_user in (
        (AuditEvent.Action.ROLE_GRANTED, changes.granted),
        (AuditEvent.Action.ROLE_REVOKED, changes.revoked),
    ):
        for user_id, ids in per_user.items():
            for role_id in sorted(ids):
                events.append(
                    _event(by_user[user_id], actor, action, {"role": {"id": role_id, "name": names.get(role_id, "")}})
                )
                logger.info(
                    "%s %s: console user %s, realm %s", action, names.get(role_id), user_id, by_user[user_id].realm_id
                )
    AuditEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
    _announce_changes(by_user, actor, changes, found)


def _announce_changes(
    by_user: dict[int, ConsoleUserLink], actor: Actor, changes: RoleChanges, found: dict[int, Group]
) -> None:
    """console_roles_granted / _revoked, one per console user and direction, once committed (realms.signals)."""
    model = get_user_model()
    per_signal = ((signals.console_roles_granted, changes.granted), (signals.console_roles_revoked, changes.revoked))
    wanted = [(signal, per_user) for signal, per_user in per_signal if per_user and signal.has_listeners(model)]
    if not wanted:
        return
    realms = Realm.objects.in_bulk({by_user[user_id].realm_id for _, per_user in wanted for user_id in per_user})
    for signal, per_user in wanted:
        for user_id, ids in per_user.items():
            link = by_user[user_id]
            granted = sorted((found[i] for i in ids if i in found), key=lambda role: (role.name, role.pk))
            announce(signal, model, realms.get(link.realm_id), actor, user=link.console_user, roles=granted)


def _links(queryset) -> Iterable[list[ConsoleUserLink]]:
    """Links with their console and realm users, in batches (keyset pagination keeps each batch cheap)."""
    qs = queryset.select_related("console_user__realms_service_account", "realm_user").order_by("pk")
    last = 0
    while True:
        batch = list(qs.filter(pk__gt=last)[:BATCH_SIZE])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def sync_links(queryset, actor: Actor, revoke_all: bool = False) -> RoleChanges:
    """Apply the role mappings to the console users of these links (a ConsoleUserLink queryset)."""
    changes = RoleChanges()
    for batch in _links(queryset):
        changes.merge(_sync_batch(batch, actor, revoke_all=revoke_all))
    return changes


def sync_realm_users(realm_user_ids: Iterable[Any], actor: Actor) -> RoleChanges:
    ids = list(dict.fromkeys(realm_user_ids))
    changes = RoleChanges()
    for start in range(0, len(ids), BATCH_SIZE):
        changes.merge(
            sync_links(ConsoleUserLink.objects.filter(realm_user_id__in=ids[start : start + BATCH_SIZE]), actor)
        )
    return changes


def sync_console_user(link: ConsoleUserLink, actor: Actor) -> RoleChanges:
    """At sign-in: the roles of one linked console user."""
    return _sync_batch([link], actor)


# ---------------------------------------------------------------------------------------------------- sessions


def _end(sessions: Any) -> int:
    """Delete these console sessions (a RealmLoginSession queryset), whatever the session engine."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    rows = list(sessions.values_list("pk", "session_key"))
    for _, key in rows:
        store(session_key=key).delete()
    RealmLoginSession.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
    return len(rows)


def end_sessions(user: Any) -> int:
    """Delete the console sessions `user` opened through a realm."""
    return _end(RealmLoginSession.objects.filter(user=user))


def end_realm_sessions(realm: Any) -> int:
    """Delete every console session opened through `realm`."""
    return _end(RealmLoginSession.objects.filter(realm=realm))


def record_session(user: Any, realm_id: Any, session_key: str, expires_at) -> None:
    now = timezone.now()
    RealmLoginSession.objects.filter(user=user, expires_at__lte=now).delete()
    RealmLoginSession.objects.update_or_create(
        session_key=session_key, defaults={"user": user, "realm_id": realm_id, "expires_at": expires_at}
    )


# ---------------------------------------------------------------------------------------------------- lifecycle


def _link_of(realm_user: RealmUser) -> ConsoleUserLink | None:
    return (
        # Not the service-account row: FOR UPDATE refuses the nullable side of its outer join.
        ConsoleUserLink.objects.select_for_update(of=("self", "console_user", "realm_user"))
        .select_related("console_user__realms_service_account", "realm_user")
        .filter(realm_user=realm_user)
        .first()
    )


def _deactivate(link: ConsoleUserLink, actor: Actor, reason: str) -> None:
    user = link.console_user
    sync_links(ConsoleUserLink.objects.filter(pk=link.pk), actor, revoke_all=True)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        link.deactivated_by_realm = True
        link.save(update_fields=["deactivated_by_realm"])
        ended = end_sessions(user)
        AuditEvent.objects.bulk_create(
            [_event(link, actor, AuditEvent.Action.CONSOLE_USER_DEACTIVATED, {"reason": reason, "sessions": ended})]
        )
        logger.info("Console user %s deactivated (%s), %d session(s) ended", user.pk, reason, ended)
    else:
        end_sessions(user)


def reactivate_link(link: ConsoleUserLink, actor: Actor) -> None:
    """Undo a deactivation the realm made (never one made by hand), then restore the mapped roles."""
    user = link.console_user
    if link.deactivated_by_realm:
        link.deactivated_by_realm = False
        link.save(update_fields=["deactivated_by_realm"])
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
            changes = {"active": {"old": False, "new": True}, "reason": "realm user reactivated"}
            AuditEvent.objects.bulk_create([_event(link, actor, AuditEvent.Action.CONSOLE_USER_REACTIVATED, changes)])
            logger.info("Console user %s reactivated", user.pk)
    _sync_batch([link], actor)


def on_user_active_changed(realm_user: RealmUser, actor: Actor) -> None:
    """SCIM set `active` (PATCH or PUT): deactivation takes roles and sessions away, reactivation gives roles back."""
    link = _link_of(realm_user)
    if link is None or is_protected(link.console_user):
        return
    link.realm_user = realm_user
    if realm_user.active:
        reactivate_link(link, actor)
    else:
        _deactivate(link, actor, "realm user deactivated")


def on_user_deleted(realm_user: RealmUser, actor: Actor) -> None:
    """SCIM DELETE: like a deactivation; the link stays (without its realm user) so the account is not reused."""
    link = _link_of(realm_user)
    if link is None or is_protected(link.console_user):
        return
    _deactivate(link, actor, "realm user deleted")


def on_members_changed(group: RealmGroup, realm_user_ids: Iterable[Any], actor: Actor) -> None:
    """Members added to or removed from `group`: only matters when the group maps to roles."""
    ids = list(realm_user_ids)
    has_mappings = getattr(group, "has_role_mappings", None)  # annotated by the locked fetch: no extra query
    if has_mappings is None:
        has_mappings = RealmGroupRoleMapping.objects.filter(realm_group=group).exists()
    if ids and has_mappings:
        sync_realm_users(ids, actor)


def on_group_deleted(group: RealmGroup, actor: Actor) -> None:
    """Before a group is deleted: drop its mappings, then take the roles it gave away from its members."""
    mappings = list(RealmGroupRoleMapping.objects.filter(realm_group=group).select_related("role"))
    if not mappings:
        return
    for mapping in mappings:
        _record_mapping(mapping, actor, AuditEvent.Action.ROLE_MAPPING_REMOVED, reason="realm group deleted")
    RealmGroupRoleMapping.objects.filter(pk__in=[m.pk for m in mappings]).delete()
    sync_links(ConsoleUserLink.objects.filter(realm_user__memberships__group=group), actor)


def on_realm_sign_in_ended(realm: Any, actor: Actor, reason: str) -> RoleChanges:
    """A realm deleted, or no longer enabled for login: the console users linked to it lose, in the caller's
    transaction, every role its mappings gave them, and the sessions they opened through it. Roles come back at the
    next sign-in through the realm (login turned on again). Hand-given roles, superusers and service accounts are
    never touched."""
    changes = sync_links(ConsoleUserLink.objects.filter(realm=realm), actor, revoke_all=True)
    ended = end_realm_sessions(realm)
    revoked = sum(len(ids) for ids in changes.revoked.values())
    logger.info(
        "Realm %s (%s): %d role(s) revoked, %d session(s) ended (%s)", realm.name, realm.pk, revoked, ended, reason
    )
    return changes


# ---------------------------------------------------------------------------------------------------- mappings


def _record_mapping(mapping: RealmGroupRoleMapping, actor: Actor, action: str, reason: str = "") -> None:
    group = mapping.realm_group
    changes: dict[str, Any] = {
        "realm_group": {"id": str(group.pk), "displayName": group.display_name},
        "role": {"id": mapping.role_id, "name": mapping.role.name},
    }
    if reason:
        changes["reason"] = reason
    repr_ = f"{group.display_name} → {mapping.role.name}"
    audit_event(group.realm_id, actor, action, "RoleMapping", group.pk, repr_, changes).save()


@transaction.atomic
def add_role_mappings(realm_group: RealmGroup, roles: Iterable[Group], actor: Actor) -> list[RealmGroupRoleMapping]:
    """Map `realm_group` to `roles` (those already mapped are skipped) and grant them to its linked members now."""
    existing = set(RealmGroupRoleMapping.objects.filter(realm_group=realm_group).values_list("role_id", flat=True))
    created = []
    for role in roles:
        if role.pk in existing:
            continue
        mapping = RealmGroupRoleMapping.objects.create(realm_group=realm_group, role=role)
        _record_mapping(mapping, actor, AuditEvent.Action.ROLE_MAPPING_ADDED)
        created.append(mapping)
    if created:
        sync_links(ConsoleUserLink.objects.filter(realm_user__memberships__group=realm_group), actor)
    return created


@transaction.atomic
def remove_role_mapping(mapping: RealmGroupRoleMapping, actor: Actor) -> RoleChanges:
    """Remove a mapping and revoke, now, the role from members who no longer get it from another mapping."""
    mapping = RealmGroupRoleMapping.objects.select_related("realm_group", "role").get(pk=mapping.pk)
    _record_mapping(mapping, actor, AuditEvent.Action.ROLE_MAPPING_REMOVED)
    realm_group = mapping.realm_group
    mapping.delete()
    return sync_links(ConsoleUserLink.objects.filter(realm_user__memberships__group=realm_group), actor)


# ---------------------------------------------------------------------------------------------------- realm viewer

REALM_VIEWER_ROLE = "Realm viewer"
# Read-only: realms, their users, groups and role mappings, the audit trail and the failed SCIM requests. No
# service account or token, and nothing that changes anything.
REALM_VIEWER_PERMISSIONS = (
    "realms.view_realm",
    "realms.view_realmuser",
    "realms.view_realmgroup",
    "realms.view_realmgrouprolemapping",
    "realms.view_auditevent",
    "scim.view_scimrequesterror",
)


@transaction.atomic
def ensure_realm_viewer_role() -> tuple[Group, bool]:
    """The "Realm viewer" console role (a Django group holding the view permissions above, nothing else), created
    when missing: a safe role to map a realm group to (docs/okta-scim.md). An existing group of that name keeps
    what it holds: only the view permissions missing are added."""
    role, created = Group.objects.get_or_create(name=REALM_VIEWER_ROLE)
    wanted = Q()
    for name in REALM_VIEWER_PERMISSIONS:
        app_label, codename = name.split(".")
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    role.permissions.add(*Permission.objects.filter(wanted))
    return role, created


__all__ = [
    "REALM_VIEWER_PERMISSIONS",
    "REALM_VIEWER_ROLE",
    "RoleChanges",
    "add_role_mappings",
    "end_realm_sessions",
    "end_sessions",
    "ensure_realm_viewer_role",
    "is_protected",
    "on_group_deleted",
    "on_members_changed",
    "on_realm_sign_in_ended",
    "on_user_active_changed",
    "on_user_deleted",
    "reactivate_link",
    "record_session",
    "remove_role_mapping",
    "sync_console_user",
    "sync_links",
    "sync_realm_users",
]
