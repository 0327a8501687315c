"""`manage.py check` names a host's wrong setting, instead of a 500 later."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

# Django 6's `check` also runs the database checks (realms.E009 among them): they need the test database.
pytestmark = pytest.mark.django_db


def check_ids() -> str:
    try:
        call_command("check")
    except SystemCheckError as exc:
        return str(exc)
    return ""


def test_default_settings_pass():
    assert check_ids() == ""


@pytest.mark.parametrize(
    ("setting", "value", "check_id"),
    [
        ("REALMS", ["not", "a", "dict"], "realms.E001"),
        ("SCIM", {"MAX_COUNT": 0}, "scim.E002"),
        ("SCIM", {"DEFAULT_COUNT": "100"}, "scim.E002"),
        ("REALMS", {"PUBLIC_BASE_URL": "console.example.com"}, "realms.E003"),
        ("SCIM", {"RATE_LIMIT": "lots"}, "scim.E003"),
        ("SCIM", "not a dict", "scim.E001"),
        ("REALMS", {"SAML_REQUEST_LIFETIME": 0}, "realms.E002"),
        ("REALMS", {"TOKEN_PREFIX": "Bad Prefix"}, "realms.E005"),
    ],
)
def test_wrong_settings_are_named(settings, setting, value, check_id):
    setattr(settings, setting, value)
    report = check_ids()
    assert check_id in report and setting in report


def test_unknown_key_is_a_warning(settings, capsys):
    settings.SCIM = {"MAX_COUNTS": 10}
    call_command("check")  # a warning does not fail the check
    assert "scim.W001" in capsys.readouterr().err


def test_missing_apps_are_named(settings):
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "django_filters"]
    report = check_ids()
    assert "realms.E006" in report and "django_filters" in report


def test_use_tz_false_passes_but_not_without_a_time_zone(settings):
    settings.USE_TZ = False
    settings.TIME_ZONE = "Europe/Paris"
    assert check_ids() == ""
    settings.TIME_ZONE = None
    report = check_ids()
    assert "realms.E010" in report and "TIME_ZONE" in report


def test_signed_cookie_sessions_are_a_warning(settings, capsys):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    call_command("check")
    assert "realms.W002" in capsys.readouterr().err
