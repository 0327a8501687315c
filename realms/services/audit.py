"""Who made a change, and the audit event that records it: one constructor for every service that changes state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who made a change: the service account and the last characters of its token."""

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
