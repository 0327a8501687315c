"""Every Django admin page the realms and scim apps register, opened as a superuser of the reference host.

A host embedding the apps gets these pages in its own admin: none may be a 500, and the pages an app refuses
(adding a realm user or an audit event, deleting an API token…) must say so with a 403, not fail. The models come
from the app registry and the admin site's public API, so a model registered later without an object here fails
the test instead of going unopened.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from realms.models import (
    APIToken,
    AuditEvent,
    ConsoleUserLink,
    RealmGroupRoleMapping,
    RealmUser,
    ServiceAccount,
)
from realms.services import accounts as account_services
from realms.tokens import hash_token

from ..factories import (
    RealmFactory,
    RealmGroupFactory,
    RealmGroupMembershipFactory,
    RealmUserFactory,
    ServiceAccountFactory,
    UserFactory,
)

APPS = ("realms", "scim")
PAGES = ("changelist", "search", "add", "change", "delete", "history")

# The pages each admin refuses on purpose, whoever asks (superusers included): realm users and groups come from the
# IdP only, the audit trail is append-only, role mappings are added on the realm's console page (which audits them),
# console user links are made at SAML sign-in, and API tokens are revoked, never deleted.
REFUSED: dict[str, set[str]] = {
    "realms.realmuser": {"add"},
    "realms.realmgroup": {"add"},
    "realms.auditevent": {"add", "delete"},
    "realms.realmgrouprolemapping": {"add"},  # deleted through the roles service (roles revoked, audited)
    "realms.consoleuserlink": {"add"},
    "realms.apitoken": {"delete"},
}


def registered_models() -> list:
    return [
        model
        for app_label in APPS
        for model in apps.get_app_config(app_label).get_models()
        if admin.site.is_registered(model)
    ]


def label(model) -> str:
    return model._meta.label_lower


def admin_url(model, page: str, obj=None) -> str:
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}"
    return reverse(name, args=[obj.pk]) if obj is not None else reverse(name)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Sixty tests each make two users with passwords: the default hasher would be most of their run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def objects(db) -> dict:
    """One object of every model the apps register in the admin, related the way real data is."""
    realm = RealmFactory(name="Okta")
    realm_user = RealmUserFactory(realm=realm, username="jane@example.com")
    membership = RealmGroupMembershipFactory(group=RealmGroupFactory(realm=realm, display_name="Engineering"))
    group = membership.group
    console_user = UserFactory(username="jane")
    link = ConsoleUserLink.objects.create(realm=realm, console_user=console_user, realm_user=realm_user)
    role = Group.objects.create(name="Engineers")
    mapping = RealmGroupRoleMapping.objects.create(realm_group=group, role=role)
    event = AuditEvent.objects.create(
        realm=realm,
        action=AuditEvent.Action.USER_CREATED,
        resource_type="User",
        resource_id=str(realm_user.pk),
        resource_repr=realm_user.username,
        actor_username="okta-scim",
        token_hint="abcd",
    )
    account_user = ServiceAccountFactory(username="okta-scim", service_account__description="Okta provisioning")
    token = account_services.issue_token(account_user, name="Okta", realm=realm).token
    return {
        "realms.realm": realm,
        "realms.realmuser": realm_user,
        "realms.realmgroup": group,
        "realms.consoleuserlink": link,
        "realms.realmgrouprolemapping": mapping,
        "realms.auditevent": event,
        "realms.serviceaccount": account_user.realms_service_account,
        "realms.apitoken": token,
    }


def test_the_apps_register_the_models_this_test_opens(objects):
    """A model registered without an object here would go unopened: the list below must follow the admin."""
    assert sorted(label(m) for m in registered_models()) == sorted(objects)
    # Reachable through the public admin API, as a host's own admin code would reach them.
    for model in registered_models():
        assert admin.site.get_model_admin(model).model is model


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("model", registered_models(), ids=label)
def test_every_admin_page_opens_or_is_refused_with_403(admin_client, objects, model, page):
    obj = objects[label(model)]
    if page == "changelist":
        url = admin_url(model, "changelist")
    elif page == "search":  # search fields that span relations (the host's username field) are exercised
        url = admin_url(model, "changelist") + "?q=okta"
    elif page == "add":
        url = admin_url(model, "add")
    else:
        url = admin_url(model, page, obj)
    response = admin_client.get(url)
    expected = 403 if page in REFUSED.get(label(model), set()) else 200
    assert response.status_code == expected, (url, response.content[:2000])
    if page in {"change", "delete", "history"} and expected == 200:
        assert str(obj) in response.content.decode() or page == "history"


@pytest.mark.parametrize("model", registered_models(), ids=label)
def test_delete_confirmed_in_the_admin_deletes_or_is_refused(admin_client, objects, model):
    """Deleting is allowed, refused by the model's admin, or refused because it would cascade into objects whose
    admin refuses deletion (a realm's audit events): never a 500, and a refusal deletes nothing."""
    obj = objects[label(model)]
    url = admin_url(model, "delete", obj)
    page = admin_client.get(url)
    refused = "delete" in REFUSED.get(label(model), set()) or "Cannot delete" in page.content.decode()
    response = admin_client.post(url, {"post": "yes"})
    if refused:
        assert response.status_code == 403, response.content[:2000]
        assert model.objects.filter(pk=obj.pk).exists()
    else:
        assert response.status_code == 302, response.content[:2000]
        assert not model.objects.filter(pk=obj.pk).exists()


def test_delete_selected_action_asks_for_confirmation(admin_client, objects):
    for model in registered_models():
        response = admin_client.get(admin_url(model, "changelist"))
        has_action = 'value="delete_selected"' in response.content.decode()
        assert has_action == ("delete" not in REFUSED.get(label(model), set())), label(model)
        if not has_action:
            continue
        obj = objects[label(model)]
        response = admin_client.post(
            admin_url(model, "changelist"), {"action": "delete_selected", "_selected_action": [obj.pk]}
        )
        assert response.status_code == 200, (label(model), response.content[:2000])
        assert re.search(r"Are you sure|Cannot delete", response.content.decode()), label(model)
        assert model.objects.filter(pk=obj.pk).exists()


def test_token_issued_in_the_admin_is_shown_once_then_revoked_with_the_action(admin_client, objects):
    account = objects["realms.serviceaccount"]
    page = admin_client.get(admin_url(ServiceAccount, "change", account)).content.decode()
    issue_url = f"{admin_url(APIToken, 'add')}?user={account.user_id}"
    assert issue_url in page.replace("&amp;", "&")
    assert admin_client.get(issue_url).status_code == 200

    response = admin_client.post(
        admin_url(APIToken, "add"),
        {"user": account.user_id, "name": "Okta, second", "expires_at_0": "", "expires_at_1": "", "realm": ""},
    )
    # POST → redirect → the page that shows the secret once.
    assert response.status_code == 302, response.content[:2000]
    shown = admin_client.get(response["Location"])
    assert shown.status_code == 200 and "no-store" in shown["Cache-Control"]
    secret = re.search(r'id="api-token"[^>]*>(zrlm_[0-9A-Za-z]+)<', shown.content.decode()).group(1)
    token = APIToken.objects.get(key_hash=hash_token(secret))
    for url in (response["Location"], admin_url(APIToken, "changelist"), admin_url(APIToken, "change", token)):
        assert secret not in admin_client.get(url).content.decode()

    response = admin_client.post(
        admin_url(APIToken, "changelist"),
        {"action": "revoke_tokens", "_selected_action": [token.pk, objects["realms.apitoken"].pk]},
    )
    assert response.status_code == 302
    assert APIToken.objects.filter(revoked_at__isnull=False).count() == 2
    assert "2 API token(s) revoked." in admin_client.get(response["Location"]).content.decode()
    # A second revocation of the same tokens changes nothing and says so.
    response = admin_client.post(
        admin_url(APIToken, "changelist"), {"action": "revoke_tokens", "_selected_action": [token.pk]}, follow=True
    )
    assert response.status_code == 200 and "0 API token(s) revoked." in response.content.decode()


def test_service_account_added_in_the_admin_gets_no_password_and_leads_to_its_tokens(admin_client, db):
    response = admin_client.post(
        admin_url(ServiceAccount, "add"),
        {"username": "entra-scim", "description": "Entra ID", "groups": [], "is_active": "on"},
    )
    assert response.status_code == 302, response.content[:2000]
    account = ServiceAccount.objects.get(user__username="entra-scim")
    assert response["Location"] == admin_url(ServiceAccount, "change", account)
    assert not account.user.has_usable_password() and not account.user.is_staff
    assert RealmUser.objects.count() == 0  # nothing else was made on the way
