"""Who made a change, the audit event that records it, and the public signal that announces it once committed:
one place for every service that changes state."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction
from django.dispatch import Signal

from .. import signals
from ..models import AuditEvent, RealmGroup, RealmUser


@dataclass(frozen=True)
class Actor:
    """Who made a change (recorded in the audit trail, and given to the receivers of realms.signals).

    user: the token's user (SCIM: a service account), the console or admin user, None for a SAML sign-in or code
    without one; token_hint: the last characters of the call's API token ("" otherwise); source: what made it,
    "scim", "console", "admin", "saml", "api" (the management API) or "command" (a host may name its own).
    """

    user: Any = None
    token_hint: str = ""
    source: str = "scim"

    @property
    def username(self) -> str:
        return self.user.get_username() if self.user is not None else ""


def audit_event(
    realm_id: Any,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: Any,
    resource_repr: str,
    changes: dict[str, Any],
) -> AuditEvent:
    """The audit event of a change, not saved yet: the caller saves it with the change (in the same transaction)."""
    return AuditEvent(
        realm_id=realm_id,
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


# ---------------------------------------------------------------------------------------------------- signals


def announce(signal: Signal, sender: Any, realm: Any, actor: Actor, **arguments: Any) -> None:
    """Send `signal` (realms.signals) with `realm`, `source`, `actor` and `arguments` once the current transaction
    commits (at once without one), never if it rolls back. Each receiver is called even if another raises, and
    one that raises is logged with its traceback (`Signal.send_robust`, logger `django.dispatch`): the change is
    committed already, and the caller's response is not concerned.

    Callers check `signal.has_listeners(sender)` before building costly arguments (the `announce_*` helpers do):
    a signal nobody listens to costs that check only, no on_commit callback."""
    if not signal.has_listeners(sender):
        return
    arguments.update(realm=realm, source=actor.source, actor=actor)
    transaction.on_commit(partial(signal.send_robust, sender, **arguments), robust=True)


_USER_SIGNALS = {
    AuditEvent.Action.USER_CREATED: signals.realm_user_provisioned,
    AuditEvent.Action.USER_UPDATED: signals.realm_user_updated,
    AuditEvent.Action.USER_DEACTIVATED: signals.realm_user_deactivated,
    AuditEvent.Action.USER_REACTIVATED: signals.realm_user_reactivated,
    AuditEvent.Action.USER_DELETED: signals.realm_user_deleted,
}


def announce_user(action: str, user: RealmUser, actor: Actor, changes: dict[str, Any] | None = None) -> None:
    """The signal of a realm user's change, by its audit action (`changes` for an update or (de)activation)."""
    signal = _USER_SIGNALS[action]
    if not signal.has_listeners(RealmUser):
        return
    arguments: dict[str, Any] = {"realm_user": copy.copy(user) if action == AuditEvent.Action.USER_DELETED else user}
    if action not in (AuditEvent.Action.USER_CREATED, AuditEvent.Action.USER_DELETED):
        arguments["changes"] = changes or {}
    announce(signal, RealmUser, user.realm, actor, **arguments)


def announce_group(signal: Signal, group: RealmGroup, actor: Actor, **arguments: Any) -> None:
    """A realm group's signal; `member_ids`/`user_ids` given as ids or {"id": ...} dicts become UUIDs."""
    if not signal.has_listeners(RealmGroup):
        return
    for name in ("member_ids", "user_ids"):
        if name in arguments:
            arguments[name] = [uuid.UUID(str(m["id"] if isinstance(m, dict) else m)) for m in arguments[name]]
    if signal is signals.realm_group_deleted:
        group = copy.copy(group)  # the row goes with the transaction; the receiver gets it as it was, pk kept
    announce(signal, RealmGroup, group.realm, actor, realm_group=group, **arguments)


def announce_group_members(group: RealmGroup, actor: Actor, delta: dict[str, list[dict[str, str]]]) -> None:
    """`realm_group_members_added` and `_removed` for what a membership change really did."""
    if delta["added"]:
        announce_group(signals.realm_group_members_added, group, actor, user_ids=delta["added"])
    if delta["removed"]:
        announce_group(signals.realm_group_members_removed, group, actor, user_ids=delta["removed"])
