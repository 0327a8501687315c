"""The standalone top bar's "Log out" button in hosts that name their log-out view differently.

It is a POST form (Django's LogoutView refuses a GET since Django 5), found under the URL name the host has:
`logout`, django-allauth's `account_logout`, the admin's, or `REALMS["LOGOUT_URL"]`.
"""

from __future__ import annotations

import re

import pytest

from ..factories import RealmFactory


def logout_form(page: str) -> str | None:
    """The action of the top bar's log-out form, or None when the bar has no such form."""
    match = re.search(
        r'<form method="post" action="([^"]+)" class="inline-form">\s*<input type="hidden" '
        r'name="csrfmiddlewaretoken"[^>]*>\s*<button type="submit">Log out</button>',
        page,
    )
    return match.group(1) if match else None


def assert_logs_out(client, action: str) -> None:
    assert client.session.get("_auth_user_id")
    response = client.post(action)
    assert response.status_code in (200, 302), response.content[:1000]
    assert not client.session.get("_auth_user_id")
    assert client.get("/realms/").status_code == 302  # back to a login page


@pytest.fixture
def realm(db):
    return RealmFactory(name="Okta")


def test_allauth_host_gets_a_log_out_button(settings, admin_client, realm):
    settings.ROOT_URLCONF = "tests.embedding.allauth_urls"
    settings.LOGIN_URL = settings.LOGOUT_REDIRECT_URL = "account_login"
    page = admin_client.get(f"/realms/{realm.pk}/").content.decode()
    action = logout_form(page)
    assert action == "/accounts/logout/"
    assert_logs_out(admin_client, action)


def test_admin_only_host_logs_out_through_the_admin(settings, admin_client, realm):
    settings.ROOT_URLCONF = "tests.embedding.host_urls"
    settings.LOGIN_URL = settings.LOGOUT_REDIRECT_URL = "admin:login"
    action = logout_form(admin_client.get("/realms/").content.decode())
    assert action == "/admin/logout/"
    assert_logs_out(admin_client, action)


def test_reference_console_keeps_its_own_logout(admin_client, realm):
    action = logout_form(admin_client.get("/realms/").content.decode())
    assert action == "/logout/"
    assert_logs_out(admin_client, action)


def test_the_setting_names_another_log_out_view(settings, admin_client, realm):
    settings.ROOT_URLCONF = "tests.embedding.allauth_urls"
    settings.LOGIN_URL = settings.LOGOUT_REDIRECT_URL = "account_login"
    settings.REALMS = {**settings.REALMS, "LOGOUT_URL": "/accounts/logout/?from=realms"}
    action = logout_form(admin_client.get("/realms/").content.decode())
    assert action == "/accounts/logout/?from=realms"
    assert_logs_out(admin_client, action)
