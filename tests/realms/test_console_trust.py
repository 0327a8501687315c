"""What an admin would get wrong without being told (issue 17): one permission rule per piece of data, the same on
every page; a token that can do nothing; a realm whose SCIM is off while its token is still used."""

import re

import pytest
from django.test import Client

from realms.models import Realm, ServiceAccount
from realms.services import accounts as account_services

from ..factories import GroupFactory, RealmFactory, ServiceAccountFactory, UserFactory
from ..scim.conftest import SCIMClient, okta_user, scim_token

REALM_VIEW = ["realms.view_realm", "realms.view_realmuser", "realms.view_realmgroup", "realms.view_auditevent"]


@pytest.fixture
def realm(db):
    return RealmFactory(name="Okta", scim_enabled=True)


@pytest.fixture
def failed(realm):
    scim = SCIMClient(Client(), realm, scim_token())
    assert scim.post("/Users", okta_user("alice.martin@example.com")).status_code == 201
    assert scim.post("/Users", okta_user("ALICE.MARTIN@example.com")).status_code == 409
    return scim


@pytest.mark.parametrize("may_read_the_log", [False, True])
def test_latest_errors_follow_the_rule_of_the_scim_requests_page(client, realm, failed, may_read_the_log):
    permissions = REALM_VIEW + (["scim.view_scimrequesterror"] if may_read_the_log else [])
    client.force_login(UserFactory(permissions=permissions))
    realm_page = client.get(f"/realms/{realm.pk}/").content.decode()
    requests_page = client.get(f"/realms/{realm.pk}/scim-requests/")
    assert re.search(r'id="scim-errors-24h">.*?1<', realm_page, re.S)  # the count is the realm's status
    if may_read_the_log:
        assert requests_page.status_code == 200
        assert "Latest errors" in realm_page and "already exists" in realm_page
        assert 'id="scim-requests-link"' in realm_page
    else:
        assert requests_page.status_code == 403
        assert "Latest errors" not in realm_page and "already exists" not in realm_page
        assert "scim-requests" not in realm_page  # no link to a page that answers 403


def test_history_and_tokens_follow_the_rules_of_their_own_pages(client, realm, failed):
    user_id = failed.get("/Users").json()["Resources"][0]["id"]
    viewer = UserFactory(permissions=["realms.view_realm", "realms.view_realmuser", "realms.view_serviceaccount"])
    client.force_login(viewer)
    assert client.get("/realms/activity/").status_code == 403
    assert 'id="history"' not in client.get(f"/realms/{realm.pk}/users/{user_id}/").content.decode()
    account = ServiceAccountFactory(username="scim-okta")
    account_services.issue_token(account, name="Okta", realm=realm)
    account_page = client.get(f"/realms/service-accounts/{account.realms_service_account.pk}/").content.decode()
    assert (
        'id="api-tokens"' not in account_page
        and 'id="okta-tokens"' not in client.get(f"/realms/{realm.pk}/").content.decode()
    )
    viewer.user_permissions.add(
        *GroupFactory(permissions=["realms.view_auditevent", "realms.view_apitoken"]).permissions.all()
    )
    client.force_login(viewer)
    assert 'id="history"' in client.get(f"/realms/{realm.pk}/users/{user_id}/").content.decode()
    assert 'id="okta-tokens"' in client.get(f"/realms/{realm.pk}/").content.decode()


def test_a_token_of_an_account_without_permission_is_flagged_where_it_is_issued_and_on_the_account(admin_client):
    account = ServiceAccountFactory(username="okta-scim")
    pk = account.realms_service_account.pk
    assert "token-no-permission" in admin_client.get(f"/realms/service-accounts/{pk}/tokens/create/").content.decode()
    response = admin_client.post(f"/realms/service-accounts/{pk}/tokens/create/", {"name": "Okta"})
    issued = admin_client.get(response["Location"]).content.decode()
    assert "This token can do nothing yet" in issued and "403" in issued
    assert "Its tokens can do nothing" in admin_client.get(f"/realms/service-accounts/{pk}/").content.decode()
    # In the Django admin too.
    response = admin_client.post("/admin/realms/apitoken/add/", {"user": account.pk, "name": "Okta 2"})
    assert "This token can do nothing yet" in admin_client.get(response["Location"]).content.decode()
    # In a group with a permission, no warning.
    account.groups.add(GroupFactory(permissions=["realms.view_realmuser"]))
    assert "Its tokens can do nothing" not in admin_client.get(f"/realms/service-accounts/{pk}/").content.decode()


def test_a_realm_whose_scim_is_off_while_its_token_is_used_says_so(admin_client, realm):
    scim = SCIMClient(Client(), realm, scim_token())
    assert "scim-off-but-used" not in admin_client.get(f"/realms/{realm.pk}/").content.decode()
    Realm.objects.filter(pk=realm.pk).update(scim_enabled=False)
    assert "scim-off-but-used" not in admin_client.get(f"/realms/{realm.pk}/").content.decode()
    assert scim.get("/Users").status_code == 404
    assert scim.get("/Users").status_code == 404
    page = admin_client.get(f"/realms/{realm.pk}/").content.decode()
    warning = re.search(r'id="scim-off-but-used">(.*?)</div>', page, re.S).group(1)
    assert "SCIM is off, but its token is still used" in warning and "2 requests" in warning
    assert f"token …{scim.token[-4:]}" in warning


def test_the_admin_token_page_lists_the_okta_actions_to_tick(admin_client, realm):
    account = ServiceAccountFactory(username="okta-scim")
    response = admin_client.post("/admin/realms/apitoken/add/", {"user": account.pk, "name": "Okta", "realm": realm.pk})
    page = admin_client.get(response["Location"]).content.decode()
    actions = re.search(r'<ul id="okta-provisioning-actions"[^>]*>(.*?)</ul>', page, re.S).group(1)
    assert re.findall(r"<li>([^<]+)</li>", actions) == [
        "Import New Users and Profile Updates",
        "Push New Users",
        "Push Profile Updates",
        "Push Groups",
    ]
    assert "tick Import" not in page


def test_service_accounts_made_by_connect_okta_name_their_realm(admin_client, realm):
    admin_client.post(f"/realms/{realm.pk}/connect-okta/")
    account = ServiceAccount.objects.get(realm=realm)
    page = admin_client.get(f"/realms/service-accounts/{account.pk}/").content.decode()
    assert re.search(r'id="account-realm"><a href="/realms/[^"]+">Okta</a>', page)


def test_a_fresh_install_offers_a_realm_viewer_role_in_one_click(admin_client, realm):
    from django.contrib.auth.models import Group

    from ..factories import RealmGroupFactory

    admin_client.post(f"/realms/{realm.pk}/connect-okta/")  # the only role so far: the SCIM group, flagged ⚠
    engineering = RealmGroupFactory(realm=realm, display_name="Engineering")
    form = admin_client.get(f"/realms/{realm.pk}/roles/add/").content.decode()
    assert "No read-only role yet" in form and 'id="create-realm-viewer"' in form

    response = admin_client.post(f"/realms/{realm.pk}/roles/realm-viewer/")
    role = Group.objects.get(name="Realm viewer")
    assert response.status_code == 302 and response["Location"] == f"/realms/{realm.pk}/roles/add/?role={role.pk}"
    assert sorted(f"{p.content_type.app_label}.{p.codename}" for p in role.permissions.all()) == [
        "realms.view_auditevent",
        "realms.view_realm",
        "realms.view_realmgroup",
        "realms.view_realmgrouprolemapping",
        "realms.view_realmuser",
        "scim.view_scimrequesterror",
    ]
    form = admin_client.get(response["Location"]).content.decode()
    assert "No read-only role yet" not in form
    assert re.search(rf'value="{role.pk}"[^>]*checked', form)  # chosen for the new mapping
    admin_client.post(f"/realms/{realm.pk}/roles/add/", {"realm_group": engineering.pk, "roles": [role.pk]})
    mappings = admin_client.get(f"/realms/{realm.pk}/roles/").content.decode()
    assert "Realm viewer" in mappings and "⚠" not in mappings
    admin_client.post(f"/realms/{realm.pk}/roles/realm-viewer/")  # again: the same role, nothing duplicated
    assert Group.objects.filter(name="Realm viewer").count() == 1


def test_creating_the_realm_viewer_role_needs_the_group_permissions(client, realm):
    client.force_login(UserFactory(permissions=["realms.view_realm", "realms.add_realmgrouprolemapping"]))
    form = client.get(f"/realms/{realm.pk}/roles/add/").content.decode()
    assert "No read-only role yet" in form and "create-realm-viewer" not in form
    assert client.post(f"/realms/{realm.pk}/roles/realm-viewer/").status_code == 403


def test_the_admin_shows_the_realm_of_a_connect_okta_account(admin_client, realm):
    admin_client.post(f"/realms/{realm.pk}/connect-okta/")
    account = ServiceAccount.objects.get(realm=realm)
    assert "Okta" in admin_client.get("/admin/realms/serviceaccount/").content.decode()
    page = admin_client.get(f"/admin/realms/serviceaccount/{account.pk}/change/").content.decode()
    assert re.search(r"field-realm.*?Okta", page, re.S)
