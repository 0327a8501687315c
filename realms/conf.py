"""Settings of the realms app: the REALMS dict in Django settings, read on every access.

Reading lazily (never at import time) keeps `override_settings(REALMS=...)` working. A host sets nothing to get
working behaviour; `realms.checks` reports a wrong value at `manage.py check` time (docs/embedding.md).
"""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Base URL of absolute links built outside a request (management commands, SAML entity ids), without a
    # trailing slash. Empty: the request's own base URL, else DEFAULT_BASE_URL. The reference host fills it from
    # the PUBLIC_BASE_URL environment variable.
    "PUBLIC_BASE_URL": "",
    # Base URL used for absolute links outside a request when PUBLIC_BASE_URL is not set.
    "DEFAULT_BASE_URL": "http://127.0.0.1:8000",
    # Default lifetime, in seconds, of a console session opened through a realm.
    "DEFAULT_LOGIN_SESSION_EXPIRY": 8 * 3600,
    # SAML sign-in: clock skew tolerated, and how long an SP-initiated AuthnRequest waits for its response (s).
    "SAML_ACCEPTED_TIME_DIFF": 60,
    "SAML_REQUEST_LIFETIME": 600,
    # Prefix of every API token; lets secret scanners recognise a leaked token.
    "TOKEN_PREFIX": "zrlm_",
    # last_used_at is written at most once per this many seconds per token, not on every request.
    "TOKEN_LAST_USED_RESOLUTION": 60,
    # Where the standalone pages' "Log out" button POSTs: a URL name or path. Empty: the first of the URL names
    # `logout` (Django's LogoutView), `account_logout` (django-allauth), `admin:logout` the host's URLconf has.
    "LOGOUT_URL": "",
}


class AppSettings:
    """One namespaced settings dict with defaults, read on every attribute access."""

    def __init__(self, setting_name: str, defaults: dict[str, Any]) -> None:
        self.setting_name = setting_name
        self.defaults = defaults

    def __getattr__(self, name: str) -> Any:
        defaults = self.__dict__.get("defaults", {})
        if name not in defaults:
            raise AttributeError(f"Unknown {self.__dict__.get('setting_name')} setting {name!r}")
        return self.user_settings().get(name, defaults[name])

    def user_settings(self) -> dict[str, Any]:
        value = getattr(settings, self.setting_name, None)
        return value if isinstance(value, dict) else {}


app_settings = AppSettings("REALMS", DEFAULTS)
