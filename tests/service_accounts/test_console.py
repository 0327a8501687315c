"""Service accounts and tokens in the console, gated by Django permissions."""

import re

from realms.models import APIToken, ServiceAccount
from realms.tokens import hash_token

from ..factories import ServiceAccountFactory, UserFactory


def test_full_console_flow(admin_client, scim_group):
    assert "No service account yet" in admin_client.get("/realms/service-accounts/").content.decode()
    response = admin_client.post(
        "/realms/service-accounts/create/",
        {"username": "okta-scim", "description": "Okta provisioning", "groups": [scim_group.pk]},
    )
    assert response.status_code == 302
    account = ServiceAccount.objects.get(user__username="okta-scim")
    assert response["Location"] == f"/realms/service-accounts/{account.pk}/"
    assert not account.user.has_usable_password()
    detail = admin_client.get(response["Location"]).content.decode()
    assert "SCIM provisioning" in detail and "No API token yet" in detail

    response = admin_client.post(f"/realms/service-accounts/{account.pk}/tokens/create/", {"name": "Okta"})
    token = APIToken.objects.get(user=account.user)
    assert response.status_code == 302 and response["Location"] == f"/realms/tokens/{token.pk}/issued/"
    page = admin_client.get(response["Location"]).content.decode()
    secret = re.search(r'id="api-token"[^>]*>(zrlm_[0-9A-Za-z]+)<', page).group(1)
    assert "shown only once" in page
    assert token.key_hash == hash_token(secret)

    detail = admin_client.get(f"/realms/service-accounts/{account.pk}/").content.decode()
    assert secret not in detail
    assert token.masked in detail
    assert "never" in detail  # last used

    assert admin_client.get("/api/whoami", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    detail = admin_client.get(f"/realms/service-accounts/{account.pk}/").content.decode()
    assert "active" in detail

    response = admin_client.post(f"/realms/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert "revoked" in admin_client.get(response["Location"]).content.decode()
    assert admin_client.get("/api/whoami", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_token_expiry_must_be_in_the_future(admin_client):
    account = ServiceAccountFactory().realms_service_account
    response = admin_client.post(
        f"/realms/service-accounts/{account.pk}/tokens/create/",
        {"name": "x", "expires_at": "2001-01-01T00:00"},
    )
    assert response.status_code == 200
    assert "must be in the future" in response.content.decode()
    assert not APIToken.objects.exists()


def test_token_with_expiry(admin_client):
    account = ServiceAccountFactory().realms_service_account
    response = admin_client.post(
        f"/realms/service-accounts/{account.pk}/tokens/create/",
        {"name": "x", "expires_at": "2099-01-01T00:00"},
    )
    assert response.status_code == 302
    assert APIToken.objects.get().expires_at.year == 2099


def test_duplicate_username_is_refused(admin_client):
    UserFactory(username="taken")
    response = admin_client.post("/realms/service-accounts/create/", {"username": "taken"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_permissions_gate_every_page(client, db):
    account = ServiceAccountFactory().realms_service_account
    token_user = UserFactory(username="viewer", permissions=["realms.view_serviceaccount"])
    client.force_login(token_user)
    assert client.get("/realms/service-accounts/").status_code == 200
    assert client.get(f"/realms/service-accounts/{account.pk}/").status_code == 200
    assert client.get("/realms/service-accounts/create/").status_code == 403
    assert client.post("/realms/service-accounts/create/", {"username": "x"}).status_code == 403
    assert client.post(f"/realms/service-accounts/{account.pk}/tokens/create/", {"name": "x"}).status_code == 403
    assert not APIToken.objects.exists()

    nobody = UserFactory(username="nobody")
    client.force_login(nobody)
    assert client.get("/realms/service-accounts/").status_code == 403
    assert "no console permission" in client.get("/").content.decode()


def test_revoke_needs_change_permission_and_post(client, issued_token):
    user = UserFactory(username="viewer", permissions=["realms.view_serviceaccount", "realms.view_apitoken"])
    client.force_login(user)
    assert client.post(f"/realms/tokens/{issued_token.token.pk}/revoke/").status_code == 403
    user = UserFactory(username="revoker", permissions=["realms.change_apitoken"])
    client.force_login(user)
    assert client.get(f"/realms/tokens/{issued_token.token.pk}/revoke/").status_code == 405
    assert client.post(f"/realms/tokens/{issued_token.token.pk}/revoke/").status_code == 302
    assert APIToken.objects.get().is_revoked


def test_console_token_issue_is_not_possible_for_console_users(admin_client, user_factory):
    person = user_factory(username="alice")
    assert admin_client.get(f"/realms/service-accounts/{person.pk}/").status_code == 404
    assert admin_client.post(f"/realms/service-accounts/{person.pk}/tokens/create/", {"name": "x"}).status_code == 404
