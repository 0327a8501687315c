"""The management API's service accounts and API tokens: the console's rules, secrets shown once, no escalation."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from realms.models import APIToken, ServiceAccount
from realms.services import SCIM_PERMISSION_CODENAMES

from ..factories import GroupFactory, RealmFactory, SuperUserFactory, UserFactory
from .management import make_caller, perms

pytestmark = pytest.mark.django_db

ACCOUNTS = "/api/service-accounts/"
SCIM_PERMISSIONS = [f"realms.{c}" for c in SCIM_PERMISSION_CODENAMES]
# What a config-as-code tool needs to set up SCIM service accounts: accounts, tokens, and the SCIM permissions it
# hands out.
MANAGER = perms("serviceaccount") + perms("apitoken") + SCIM_PERMISSIONS


@pytest.fixture
def scim_group(db):
    return GroupFactory(name="SCIM", permissions=SCIM_PERMISSIONS)


@pytest.fixture
def manager(client):
    return make_caller(client, MANAGER, username="terraform")


def test_without_token_401_and_without_permission_403(client):
    assert client.get(ACCOUNTS).status_code == 401
    viewer = make_caller(client, perms("serviceaccount", "view"))
    assert viewer.get(ACCOUNTS).status_code == 200
    response = viewer.post(ACCOUNTS, {"username": "okta"})
    assert response.status_code == 403 and "realms.add_serviceaccount" in response.json()["detail"]
    assert viewer.get(f"{ACCOUNTS}{viewer.user.username}/tokens/").status_code == 403  # needs view_apitoken


def test_create_list_retrieve_deactivate(manager, scim_group, client):
    realm = RealmFactory(name="Okta")
    response = manager.post(
        ACCOUNTS, {"username": "okta-scim", "description": "Okta", "groups": ["SCIM"], "realm": "okta"}
    )
    assert response.status_code == 201, response.content
    account = response.json()
    assert account["groups"] == ["SCIM"] and account["is_active"] and account["realm"] == str(realm.pk)
    user = get_user_model().objects.get(username="okta-scim")
    assert not user.has_usable_password() and not user.is_staff and not user.is_superuser
    assert ServiceAccount.objects.get(user=user).realm == realm

    listed = manager.get(f"{ACCOUNTS}?is_active=true").json()
    assert {a["username"] for a in listed["results"]} == {"okta-scim", "terraform"}
    assert manager.get(f"{ACCOUNTS}okta-scim/").json()["description"] == "Okta"
    assert manager.get(f"{ACCOUNTS}{account['id']}/").json()["username"] == "okta-scim"

    issued = manager.post(f"{ACCOUNTS}okta-scim/tokens/", {"name": "Okta provisioning"}).json()["token"]
    assert client.get("/api/whoami", HTTP_AUTHORIZATION=f"Bearer {issued}").status_code == 200
    response = manager.post(f"{ACCOUNTS}okta-scim/deactivate/")
    assert response.status_code == 200 and response.json()["is_active"] is False
    # Deactivated: its tokens stop working at once.
    assert client.get("/api/whoami", HTTP_AUTHORIZATION=f"Bearer {issued}").status_code == 401
    assert manager.post(f"{ACCOUNTS}okta-scim/tokens/", {"name": "again"}).status_code == 400
    assert manager.delete(f"{ACCOUNTS}okta-scim/").status_code == 405  # deactivated, never deleted


def test_a_service_account_never_becomes_staff(manager):
    response = manager.post(ACCOUNTS, {"username": "bot", "is_staff": True, "is_superuser": True})
    assert response.status_code == 201
    user = get_user_model().objects.get(username="bot")
    assert not user.is_staff and not user.is_superuser


def test_put_by_username_creates_then_updates(manager, scim_group):
    first = manager.put(f"{ACCOUNTS}okta-scim/", {"groups": ["SCIM"], "description": "Okta"})
    assert first.status_code == 201, first.content
    again = manager.put(f"{ACCOUNTS}okta-scim/", {"groups": ["SCIM"], "description": "Okta"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert ServiceAccount.objects.filter(user__username="okta-scim").count() == 1
    changed = manager.put(f"{ACCOUNTS}okta-scim/", {"groups": [], "is_active": False})
    assert changed.json()["groups"] == [] and changed.json()["is_active"] is False
    assert changed.json()["description"] == "Okta"  # left out: kept
    assert manager.put(f"{ACCOUNTS}okta-scim/", {"username": "other"}).status_code == 400
    assert manager.put(f"{ACCOUNTS}okta-scim/", {"groups": ["Nope"]}).status_code == 400


def test_conflicts_409(manager):
    UserFactory(username="alice")
    response = manager.post(ACCOUNTS, {"username": "alice"})
    assert response.status_code == 409 and "not a service account" in response.json()["detail"]
    assert manager.put(f"{ACCOUNTS}alice/", {}).status_code == 409
    assert not ServiceAccount.objects.filter(user__username="alice").exists()
    assert manager.post(ACCOUNTS, {"username": "bot"}).status_code == 201
    assert manager.post(ACCOUNTS, {"username": "BOT"}).status_code == 409
    realm = RealmFactory(name="Okta")
    assert manager.post(ACCOUNTS, {"username": "scim-1", "realm": str(realm.pk)}).status_code == 201
    response = manager.post(ACCOUNTS, {"username": "scim-2", "realm": str(realm.pk)})
    assert response.status_code == 409 and "each realm has one" in response.json()["detail"]
    assert manager.post(ACCOUNTS, {"username": "not valid!"}).status_code == 400


def test_token_secret_shown_once_listed_without_it_and_revoked(manager, scim_group, client):
    realm = RealmFactory(name="Okta")
    manager.put(f"{ACCOUNTS}okta-scim/", {"groups": ["SCIM"]})
    tokens = f"{ACCOUNTS}okta-scim/tokens/"
    expires = (timezone.now() + datetime.timedelta(days=30)).isoformat()
    response = manager.post(tokens, {"name": "Okta provisioning", "realm": str(realm.pk), "expires_at": expires})
    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    issued = response.json()
    secret = issued["token"]
    assert secret.endswith(issued["hint"]) and issued["realm"] == str(realm.pk) and issued["status"] == "active"
    assert issued["created_by"] == "terraform"

    listed = manager.get(tokens)
    assert secret not in listed.content.decode()
    (row,) = listed.json()["results"]
    assert "token" not in row and row["hint"] == secret[-4:] and row["realm_name"] == "Okta"
    assert set(row) >= {"name", "hint", "created_at", "last_used_at", "expires_at", "realm"}
    detail = manager.get(f"{tokens}{issued['id']}/")
    assert detail.status_code == 200 and secret not in detail.content.decode()

    scim = f"/api/realms/{realm.pk}/scim/v2/Users"
    assert client.get(scim, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    assert manager.get(tokens).json()["results"][0]["last_used_at"] is not None
    assert manager.delete(f"{tokens}{issued['id']}/").status_code == 204
    assert client.get(scim, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    assert manager.get(f"{tokens}{issued['id']}/").json()["status"] == "revoked"
    assert APIToken.objects.get(pk=issued["id"]).revoked_by == manager.user

    past = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert manager.post(tokens, {"name": "late", "expires_at": past}).status_code == 400


def test_privilege_escalation_is_refused(manager, client):
    admins = GroupFactory(name="Admins", permissions=["auth.change_group", "realms.delete_realm"])
    response = manager.post(ACCOUNTS, {"username": "bot", "groups": ["Admins"]})
    assert response.status_code == 403
    assert "auth.change_group" in response.json()["detail"]
    assert not get_user_model().objects.filter(username="bot").exists()

    manager.post(ACCOUNTS, {"username": "bot"})
    assert manager.put(f"{ACCOUNTS}bot/", {"groups": ["Admins"]}).status_code == 403
    assert manager.get(f"{ACCOUNTS}bot/").json()["groups"] == []

    # A token for an account with more permissions than the caller's is refused too.
    powerful = make_caller(client, ["auth.change_group"], username="powerful")
    response = manager.post(f"{ACCOUNTS}{powerful.user.username}/tokens/", {"name": "mine now"})
    assert response.status_code == 403
    assert not APIToken.objects.filter(user=powerful.user, name="mine now").exists()

    # A superuser may; and an account already in a group keeps it when the caller sends it back.
    root = SuperUserFactory(username="root")
    client.force_login(root)
    response = client.put(f"{ACCOUNTS}bot/", {"groups": ["Admins"]}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert admins.user_set.filter(username="bot").exists()
    assert manager.put(f"{ACCOUNTS}bot/", {"groups": ["Admins"], "description": "kept"}).status_code == 200


def test_realm_restricted_token_reaches_no_account(client):
    realm = RealmFactory(name="Okta")
    restricted = make_caller(client, MANAGER, realm=realm)
    for response in (
        restricted.get(ACCOUNTS),
        restricted.post(ACCOUNTS, {"username": "bot"}),
        restricted.get(f"{ACCOUNTS}{restricted.user.username}/tokens/"),
        restricted.post(f"{ACCOUNTS}{restricted.user.username}/tokens/", {"name": "more"}),
    ):
        assert response.status_code == 403
        assert "restricted to one realm" in response.json()["detail"]
    assert APIToken.objects.count() == 1


def test_session_needs_csrf_for_writes(client, superuser):
    csrf_client = client.__class__(enforce_csrf_checks=True)
    csrf_client.force_login(superuser)
    assert csrf_client.get(ACCOUNTS).status_code == 200
    response = csrf_client.post(ACCOUNTS, {"username": "bot"}, content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
