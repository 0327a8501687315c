"""Issuing a token is POST → redirect → a page that shows the secret once: a reload never mints a second token nor
shows the secret again, and the secret is never written to the database (sessions included) or a log."""

import logging
import re

import pytest
from django.contrib.sessions.models import Session

from realms.models import APIToken
from realms.tokens import hash_token

from ..factories import RealmFactory, ServiceAccountFactory, UserFactory

SECRET = re.compile(r'id="api-token"[^>]*>(zrlm_[0-9A-Za-z]+)<')


def stored_sessions() -> str:
    return " ".join(f"{s.session_data} {s.get_decoded()}" for s in Session.objects.all())


@pytest.fixture
def account(scim_group):
    return ServiceAccountFactory(username="okta-scim", groups=[scim_group]).realms_service_account


@pytest.mark.parametrize("where", ["console", "admin"])
def test_the_secret_is_shown_once_and_a_reload_mints_nothing(admin_client, account, where, caplog):
    caplog.set_level(logging.DEBUG)
    if where == "console":
        response = admin_client.post(f"/realms/service-accounts/{account.pk}/tokens/create/", {"name": "Okta"})
    else:
        response = admin_client.post(
            "/admin/realms/apitoken/add/", {"user": account.user_id, "name": "Okta", "expires_at_0": ""}
        )
    assert response.status_code == 302
    assert "no-store" in response["Cache-Control"]
    assert "zrlm_" not in response.content.decode()
    issued_page = response["Location"]

    first = admin_client.get(issued_page)
    assert first.status_code == 200 and "no-store" in first["Cache-Control"]
    secret = SECRET.search(first.content.decode()).group(1)
    token = APIToken.objects.get()
    assert token.key_hash == hash_token(secret)
    assert 'data-copy-target="api-token"' in first.content.decode()
    assert "Authentication Mode" in first.content.decode()  # and where it goes

    again = admin_client.get(issued_page)
    assert again.status_code == 200 and "no-store" in again["Cache-Control"]
    assert secret not in again.content.decode() and "zrlm_" + secret[5:] not in again.content.decode()
    assert "cannot be shown again" in again.content.decode()
    assert APIToken.objects.count() == 1

    # Neither the session store (the database here) nor a log record ever held the secret, whole or in part.
    assert secret not in stored_sessions() and secret[5:-6] not in stored_sessions()
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert secret[5:-6] not in logged


def test_the_session_half_alone_or_the_cookie_half_alone_shows_nothing(admin_client, account, superuser):
    from django.test import Client

    response = admin_client.post(f"/realms/service-accounts/{account.pk}/tokens/create/", {"name": "Okta"})
    issued_page = response["Location"]
    # Another browser of the same admin (another session) with the cookie half stolen: nothing.
    pad = next(c for name, c in response.cookies.items() if name.startswith("realms_once_"))
    assert pad["path"] == issued_page and pad["httponly"] and pad["samesite"] == "Strict"
    client = Client()
    client.force_login(superuser)
    client.cookies[pad.key] = pad.value
    assert "zrlm_" not in client.get(issued_page).content.decode().replace("zrlm_…", "")
    # The session half without the cookie: nothing either, and it is gone.
    del admin_client.cookies[pad.key]
    assert "cannot be shown again" in admin_client.get(issued_page).content.decode()
    admin_client.cookies[pad.key] = pad.value
    assert "cannot be shown again" in admin_client.get(issued_page).content.decode()


def test_the_issued_page_needs_the_permission_to_issue_tokens(admin_client, account):
    from django.test import Client

    response = admin_client.post(f"/realms/service-accounts/{account.pk}/tokens/create/", {"name": "Okta"})
    client = Client()
    client.force_login(UserFactory(permissions=["realms.view_serviceaccount"]))
    assert client.get(response["Location"]).status_code == 403


def test_token_lists_show_realm_restriction_expiry_and_last_use(admin_client, account):
    realm = RealmFactory(name="Okta EU", scim_enabled=True)
    admin_client.post(
        f"/realms/service-accounts/{account.pk}/tokens/create/",
        {"name": "EU", "realm": str(realm.pk), "expires_at": "2099-01-01T00:00"},
    )
    admin_client.post(f"/realms/service-accounts/{account.pk}/tokens/create/", {"name": "Anywhere"})
    page = admin_client.get(f"/realms/service-accounts/{account.pk}/").content.decode()
    rows = dict(re.findall(r"<tr>\s*<td>(EU|Anywhere)</td>(.*?)</tr>", page, re.S))
    assert "Okta EU" in rows["EU"] and "2099-01-01" in rows["EU"] and "never" in rows["EU"]
    assert "every realm" in rows["Anywhere"]
    admin_page = admin_client.get(f"/admin/realms/serviceaccount/{account.pk}/change/").content.decode()
    assert "realm Okta EU" in admin_page and "every realm" in admin_page and "last used never" in admin_page
    changelist = admin_client.get("/admin/realms/apitoken/").content.decode()
    assert "Okta EU" in changelist and "every realm" in changelist
