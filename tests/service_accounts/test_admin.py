"""Django admin flows: service accounts without password fields, tokens shown once, revocation, SCIM group."""

import re

from django.contrib.auth.models import Group, Permission

from realms.models import APIToken, ServiceAccount
from realms.services import SCIM_PERMISSION_CODENAMES
from realms.tokens import hash_token

from ..factories import ServiceAccountFactory


def test_service_account_add_form_has_no_password_fields(admin_client):
    response = admin_client.get("/admin/realms/serviceaccount/add/")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="username"' in content
    assert 'name="description"' in content
    assert 'id="id_groups"' in content  # no group yet: an empty list of checkboxes
    assert re.findall(r'<input[^>]*name="(password[^"]*)"', content) == []
    assert 'type="password"' not in content


def test_create_service_account_in_admin(admin_client, scim_group):
    response = admin_client.post(
        "/admin/realms/serviceaccount/add/",
        {
            "username": "okta",
            "description": "Okta provisioning",
            "groups": [scim_group.pk],
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    account = ServiceAccount.objects.get(user__username="okta")
    # Saving leads to the account's own page, which offers its first token.
    assert response["Location"] == f"/admin/realms/serviceaccount/{account.pk}/change/"
    assert "Issue an API token" in admin_client.get(response["Location"]).content.decode()
    assert account.description == "Okta provisioning"
    assert not account.user.has_usable_password()
    assert not account.user.is_staff and not account.user.is_superuser
    assert list(account.user.groups.all()) == [scim_group]


def test_change_service_account_in_admin(admin_client, service_account, scim_group):
    account = service_account.realms_service_account
    url = f"/admin/realms/serviceaccount/{account.pk}/change/"
    response = admin_client.post(url, {"description": "Okta, production", "groups": [], "is_active": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    account.refresh_from_db()
    account.user.refresh_from_db()
    assert account.description == "Okta, production"
    assert not account.user.is_active and list(account.user.groups.all()) == []
    assert account.user.get_username() == "okta-scim"


def test_issue_token_in_admin_shows_it_once(admin_client, service_account):
    response = admin_client.get(f"/admin/realms/apitoken/add/?user={service_account.pk}")
    assert response.status_code == 200
    response = admin_client.post(
        "/admin/realms/apitoken/add/",
        {"user": service_account.pk, "name": "Okta", "expires_at_0": "", "expires_at_1": ""},
    )
    token = APIToken.objects.get(user=service_account)
    assert response.status_code == 302 and response["Location"] == f"/admin/realms/apitoken/{token.pk}/issued/"
    response = admin_client.get(response["Location"])
    assert "no-store" in response["Cache-Control"]
    secret = re.search(r'id="api-token"[^>]*>(zrlm_[0-9A-Za-z]+)<', response.content.decode()).group(1)
    assert token.key_hash == hash_token(secret)
    # The token list and change page never show it again.
    for url in (
        "/admin/realms/apitoken/",
        f"/admin/realms/apitoken/{token.pk}/change/",
        f"/admin/realms/serviceaccount/{service_account.realms_service_account.pk}/change/",
    ):
        page = admin_client.get(url)
        assert page.status_code == 200
        assert secret not in page.content.decode()
        assert token.hint in page.content.decode()
    # And it works.
    assert admin_client.get("/api/whoami", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_revoke_token_with_admin_action(admin_client, issued_token):
    response = admin_client.post(
        "/admin/realms/apitoken/",
        {"action": "revoke_tokens", "_selected_action": [issued_token.token.pk]},
    )
    assert response.status_code == 302
    assert APIToken.objects.get(pk=issued_token.token.pk).is_revoked
    assert admin_client.get("/api/whoami", HTTP_AUTHORIZATION=f"Bearer {issued_token.secret}").status_code == 401


def test_tokens_cannot_be_deleted_only_revoked(admin_client, issued_token):
    response = admin_client.get(f"/admin/realms/apitoken/{issued_token.token.pk}/delete/")
    assert response.status_code == 403


def test_user_admin_lists_people_not_service_accounts(admin_client, user_factory):
    user_factory(username="alice")
    ServiceAccountFactory(username="robot-svc")
    content = admin_client.get("/admin/console/user/").content.decode()
    assert "alice" in content
    assert "robot-svc" not in content
    assert "robot-svc" in admin_client.get("/admin/realms/serviceaccount/").content.decode()


def test_create_scim_group_with_stock_group_admin(admin_client):
    perms = Permission.objects.filter(content_type__app_label="realms", codename__in=SCIM_PERMISSION_CODENAMES)
    assert perms.count() == 8
    response = admin_client.post("/admin/auth/group/add/", {"name": "Okta SCIM", "permissions": [p.pk for p in perms]})
    assert response.status_code == 302
    group = Group.objects.get(name="Okta SCIM")
    assert group.permissions.count() == 8
    account = ServiceAccountFactory(username="robot-svc", groups=[group])
    account = type(account).objects.get(pk=account.pk)
    assert account.has_perms([f"realms.{c}" for c in SCIM_PERMISSION_CODENAMES])
