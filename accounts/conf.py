"""Settings of the accounts app: the ACCOUNTS dict in Django settings, read on every access.

Reading lazily (never at import time) keeps `override_settings(ACCOUNTS=...)` working in tests.
"""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Prefix of every API token; lets secret scanners recognise a leaked token.
    "TOKEN_PREFIX": "zrlm_",
    # last_used_at is written at most once per this many seconds per token, not on every request.
    "TOKEN_LAST_USED_RESOLUTION": 60,
}


class AppSettings:
    def __init__(self, setting_name: str, defaults: dict[str, Any]) -> None:
        self._setting_name = setting_name
        self._defaults = defaults

    def __getattr__(self, name: str) -> Any:
        if name not in self._defaults:
            raise AttributeError(f"Unknown {self._setting_name} setting {name!r}")
        return getattr(settings, self._setting_name, {}).get(name, self._defaults[name])


app_settings = AppSettings("ACCOUNTS", DEFAULTS)
