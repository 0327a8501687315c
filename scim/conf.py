"""Settings of the SCIM layer: the SCIM dict in Django settings, read on every access (documented in docs/scim.md)."""

from typing import Any

from realms.conf import AppSettings

DEFAULTS: dict[str, Any] = {
    # Paging (RFC 7644 §3.4.2.4): page size when `count` is absent, and the largest page served.
    "DEFAULT_COUNT": 100,
    "MAX_COUNT": 1000,
    # Largest request body accepted (413 beyond).
    "MAX_BODY_BYTES": 1024 * 1024,
    # Filters (RFC 7644 §3.4.2.2): longest filter text and deepest nesting of parentheses/brackets.
    "MAX_FILTER_LENGTH": 4096,
    "MAX_FILTER_DEPTH": 32,
    # Requests per API token ("<n>/second", "/minute" or "/hour"); None turns rate limiting off.
    "RATE_LIMIT": "6000/minute",
    # Request log (scim.models): a realm's status row is rewritten at most once per this many seconds unless the
    # outcome changes, and error rows are kept this many days.
    "REQUEST_STATUS_RESOLUTION": 10,
    "REQUEST_ERROR_RETENTION_DAYS": 30,
}

app_settings = AppSettings("SCIM", DEFAULTS)
