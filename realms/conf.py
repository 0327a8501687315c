"""Settings of the realms app: the REALMS dict in Django settings, read on every access."""

from typing import Any

from accounts.conf import AppSettings

DEFAULTS: dict[str, Any] = {
    # Base URL used for absolute links outside a request when PUBLIC_BASE_URL is not set.
    "DEFAULT_BASE_URL": "http://127.0.0.1:8000",
    # Default lifetime, in seconds, of a console session opened through a realm.
    "DEFAULT_LOGIN_SESSION_EXPIRY": 8 * 3600,
}

app_settings = AppSettings("REALMS", DEFAULTS)
