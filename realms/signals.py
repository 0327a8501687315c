"""The apps' public signals: what a host connects to act on identity changes (revoke a device when a user is
deprovisioned, give access when a user joins a group). Documented in docs/embedding.md ("Signals").

Every signal is sent **once per change, after the transaction that made it commits** (at once when there is no
transaction), whatever made the change: SCIM, the console, the Django admin, SAML sign-in, a management command or
a host's own code calling `realms.services`. A change rolled back sends nothing. Receivers are called with
`Signal.send_robust`: one that raises is logged with its traceback (logger `django.dispatch`) and neither stops
the other receivers nor undoes the change, which is committed already, nor breaks the SCIM response.

Every signal carries these keyword arguments:

- `sender`: the model class of what changed: `RealmUser`, `RealmGroup`, or the host's user model (console roles).
- `realm`: the `realms.models.Realm` the change belongs to.
- `source`: what made the change: "scim", "console", "admin", "saml", "api" (the management API), "command"
  (`actor.source`).
- `actor`: a `realms.services.Actor`: `user` (the token's user for SCIM, a service account, and the management API;
  the console or admin user; None for a SAML sign-in or a change made without a user), `token_hint` (the last
  characters of the call's API token, "" without one), `source` (as above) and `username` ("" without a user).

and, by signal:

| signal | sent when | its own arguments |
| --- | --- | --- |
| `realm_user_provisioned` | a realm user is created (SCIM POST, first SAML sign-in) | `realm_user` |
| `realm_user_updated` | a realm user's attributes change, `active` aside | `realm_user`, `changes` |
| `realm_user_deactivated` | a realm user's `active` turns false | `realm_user`, `changes` |
| `realm_user_reactivated` | a realm user's `active` turns true again | `realm_user`, `changes` |
| `realm_user_deleted` | a realm user is deleted (SCIM DELETE, the admin) | `realm_user` (the row is gone) |
| `realm_group_created` | a realm group is created | `realm_group`, `member_ids` |
| `realm_group_renamed` | a realm group's displayName changes | `realm_group`, `old_name`, `new_name` |
| `realm_group_deleted` | a realm group is deleted | `realm_group` (the row is gone), `member_ids` |
| `realm_group_members_added` | users join an existing realm group | `realm_group`, `user_ids` |
| `realm_group_members_removed` | users leave an existing realm group | `realm_group`, `user_ids` |
| `console_roles_granted` | role mappings give a console user roles | `user`, `roles` |
| `console_roles_revoked` | role mappings take roles from a console user | `user`, `roles` |

- `realm_user`: the `RealmUser` as the change left it (for a deletion: as it was, its `pk` kept).
- `changes`: `{attribute: {"old": value, "new": value}}`, the top-level SCIM attributes that changed (absent: None),
  as the audit trail records them. A change of `active` sends `realm_user_deactivated` or `realm_user_reactivated`
  *instead of* `realm_user_updated`, with every attribute that changed with it.
- `realm_group`: the `RealmGroup` as the change left it (for a deletion: as it was, its `pk` kept).
- `old_name`, `new_name`: the group's displayName before and after.
- `member_ids`: the realm user ids (UUIDs) of the group's members: the first members of a group created, the last
  members of a group deleted (no `..._members_added`/`..._members_removed` is sent for those).
- `user_ids`: the realm user ids (UUIDs) that joined or left, only those whose membership really changed.
- `user`: the console user (the host's user model); `roles`: the `django.contrib.auth.models.Group`s granted or
  revoked, by name order.

A realm user's groups changing sends the group signals, not `realm_user_updated`; deleting a user or a group sends
no membership signal (the deletion says who left). Deleting a realm deletes its users and groups without a signal
each (its console roles revoked are announced).
"""

from __future__ import annotations

from django.dispatch import Signal

# Cached per sender (the model classes above): a signal nobody listens to costs the services one dictionary
# lookup (`has_listeners()`) per change, and nothing else (benchmarks/signals.py, docs/performance.md).
realm_user_provisioned = Signal(use_caching=True)
realm_user_updated = Signal(use_caching=True)
realm_user_deactivated = Signal(use_caching=True)
realm_user_reactivated = Signal(use_caching=True)
realm_user_deleted = Signal(use_caching=True)

realm_group_created = Signal(use_caching=True)
realm_group_renamed = Signal(use_caching=True)
realm_group_deleted = Signal(use_caching=True)
realm_group_members_added = Signal(use_caching=True)
realm_group_members_removed = Signal(use_caching=True)

console_roles_granted = Signal(use_caching=True)
console_roles_revoked = Signal(use_caching=True)

__all__ = [
    "console_roles_granted",
    "console_roles_revoked",
    "realm_group_created",
    "realm_group_deleted",
    "realm_group_members_added",
    "realm_group_members_removed",
    "realm_group_renamed",
    "realm_user_deactivated",
    "realm_user_deleted",
    "realm_user_provisioned",
    "realm_user_reactivated",
    "realm_user_updated",
]
