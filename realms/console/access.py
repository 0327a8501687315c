"""Who may see what: one rule per piece of data, used by every page that shows it (docs/okta-scim.md).

A page that shows a piece of data anywhere (a table, a panel, a link to it) asks the rule of that data, so a user
never sees on one page what another page refuses, nor a link to a page that answers 403. The SCIM request log's
rule is the SCIM layer's own (scim.console.REQUEST_LOG), used the same way.
"""

from __future__ import annotations

from typing import Any

# The audit trail (SCIM activity, and the history on a user's or group's page).
AUDIT_TRAIL = ("realms.view_auditevent",)
# API tokens: name, hint, realm, expiry and last use (a realm's Connect Okta panel, a service account's page).
API_TOKENS = ("realms.view_apitoken",)


def may_view(user: Any, rule: tuple[str, ...]) -> bool:
    return bool(user.has_perms(rule))
