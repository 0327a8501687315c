"""Settings of the SCIM layer: the SCIM dict in Django settings, read on every access (documented in docs/scim.md)."""

from typing import Any

from accounts.conf import AppSettings

DEFAULTS: dict[str, Any] = {
    # Paging (RFC 7644 §3.4.2.4): page size when `count` is absent, and the largest page served.
    "DEFAULT_COUNT": 100,
    "MAX_COUNT": 1000,
    # Largest request body accepted (413 beyond).
    "MAX_BODY_BYTES": 1024 * 1024,
    # Filters (RFC 7644 §3.4.2.2): longest filter text and deepest nesting of parentheses/brackets.
    "MAX_FILTER_LENGTH": 4096,
    "MAX_FILTER_DEPTH": 32,
}

app_settings = AppSettings("SCIM", DEFAULTS)
