"""System checks (`manage.py check`): a host's wrong setting is named at start-up, not met as a 500 later.

Ids: realms.E001-E010 for what the apps cannot work without, realms.W0xx for what works but surprises.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.checks import Error, Tags, Warning, register
from django.db import connections
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

REQUIRED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "django_filters",
]


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def check_settings_dict(name: str, defaults: dict[str, Any], app_label: str) -> list:
    """settings.<name> is a dict of known keys, its integer keys positive integers: <app_label>.E001, W001, E002.
    The SCIM layer checks its own SCIM dict with it (scim.checks)."""
    errors: list = []
    value = getattr(settings, name, {})
    if not isinstance(value, dict):
        return [Error(f"settings.{name} must be a dict, not {type(value).__name__}.", id=f"{app_label}.E001")]
    for key in sorted(set(value) - set(defaults)):
        errors.append(
            Warning(
                f"settings.{name} has an unknown key {key!r}; it is ignored.",
                hint=f"Known keys: {', '.join(sorted(defaults))}.",
                id=f"{app_label}.W001",
            )
        )
    for key, default in defaults.items():
        if key not in value or not isinstance(default, int) or isinstance(default, bool):
            continue
        if not _positive_int(value[key]):
            errors.append(Error(f"settings.{name}[{key!r}] must be a positive integer.", id=f"{app_label}.E002"))
    return errors


def check_settings_dicts(app_configs: Any = None, **kwargs: Any) -> list:
    from .conf import DEFAULTS as REALMS_DEFAULTS

    errors = check_settings_dict("REALMS", REALMS_DEFAULTS, "realms")
    realms_settings = getattr(settings, "REALMS", {})
    base = realms_settings.get("PUBLIC_BASE_URL", "") if isinstance(realms_settings, dict) else ""
    if base:
        parts = urlsplit(str(base))
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
            errors.append(
                Error(
                    f"settings.REALMS['PUBLIC_BASE_URL'] must be an absolute http(s) URL, not {base!r}.",
                    hint="For example 'https://console.example.com' (no trailing path is needed).",
                    id="realms.E003",
                )
            )
    token_prefix = realms_settings.get("TOKEN_PREFIX") if isinstance(realms_settings, dict) else None
    if token_prefix is not None and not (
        isinstance(token_prefix, str) and re.fullmatch(r"[a-z0-9_]{2,16}", token_prefix)
    ):
        errors.append(
            Error("settings.REALMS['TOKEN_PREFIX'] must be 2-16 characters of a-z, 0-9 and _.", id="realms.E005")
        )
    return errors


def check_installed_apps(app_configs: Any = None, **kwargs: Any) -> list:
    missing = [name for name in REQUIRED_APPS if not apps.is_installed(name)]
    if not missing:
        return []
    return [
        Error(
            f"The realms app needs {', '.join(repr(m) for m in missing)} in INSTALLED_APPS.",
            # Only the missing ones: adding an app the host already has fails ("Application labels aren't unique").
            hint=f"Add {', '.join(repr(m) for m in missing)} to INSTALLED_APPS (docs/embedding.md).",
            id="realms.E006",
        )
    ]


def check_user_model(app_configs: Any = None, **kwargs: Any) -> list:
    user_model = get_user_model()
    names = {f.name for f in user_model._meta.get_fields()}
    if {"groups", "user_permissions"} <= names:
        return []
    return [
        Error(
            f"AUTH_USER_MODEL {user_model._meta.label} has no 'groups'/'user_permissions': service accounts get "
            "their SCIM permissions through Django groups.",
            hint="Give the user model django.contrib.auth.models.PermissionsMixin (AbstractUser has it).",
            id="realms.E007",
        )
    ]


def check_templates(app_configs: Any = None, **kwargs: Any) -> list:
    try:
        get_template("realms/base.html")
    except TemplateDoesNotExist:
        return [
            Error(
                "The console pages' templates cannot be found.",
                hint="Use Django's template engine with APP_DIRS=True (or the app directories loader).",
                id="realms.E008",
            )
        ]
    return []


def check_databases(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list:
    errors = []
    for alias in databases or []:
        vendor = connections[alias].vendor
        if vendor not in {"postgresql", "sqlite"}:
            errors.append(
                Error(
                    f"Database {alias!r} is {vendor}: the realms app supports PostgreSQL and SQLite.",
                    id="realms.E009",
                )
            )
    return errors


def check_time_settings(app_configs: Any = None, **kwargs: Any) -> list:
    """USE_TZ = False works (naive datetimes are in TIME_ZONE: realms.datetimes), but only with a named zone: the
    pages show every time with its zone and SCIM renders it in UTC, both through `get_default_timezone()`."""
    if settings.USE_TZ or settings.TIME_ZONE:
        return []
    return [
        Error(
            "TIME_ZONE is None while USE_TZ is False: the realms pages, the admin's token list and SCIM's meta "
            "timestamps cannot tell which time zone the stored times are in.",
            hint='Name the zone the host runs in, e.g. TIME_ZONE = "UTC".',
            id="realms.E010",
        )
    ]


def check_session_engine(app_configs: Any = None, **kwargs: Any) -> list:
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.signed_cookies":
        return []
    return [
        Warning(
            "Signed-cookie sessions cannot be deleted on the server: a user deactivated by SCIM stays signed in "
            "until the session that a realm's SAML sign-in opened expires.",
            hint="Use a server-side SESSION_ENGINE (db, cache, cached_db, file) if realms sign users in.",
            id="realms.W002",
        )
    ]


def register_checks() -> None:
    register(Tags.compatibility)(check_settings_dicts)
    register(Tags.compatibility)(check_installed_apps)
    register(Tags.compatibility)(check_time_settings)
    register(Tags.security)(check_session_engine)
    register(Tags.models)(check_user_model)
    register(Tags.templates)(check_templates)
    register(Tags.database)(check_databases)
