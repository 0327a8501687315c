"""The management API's realms and role mappings, over HTTP with API tokens as a config-as-code tool calls them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from realms.models import AuditEvent, Realm, RealmGroupRoleMapping
from realms.services import roles

from ..factories import GroupFactory, RealmFactory, RealmGroupFactory
from .management import make_caller, perms

pytestmark = pytest.mark.django_db

REALMS = "/api/realms/"


@pytest.fixture
def admin(client):
    return make_caller(client, perms("realm") + perms("realmgrouprolemapping"))


def test_without_token_401_and_without_permission_403(client):
    assert client.get(REALMS).status_code == 401
    viewer = make_caller(client, perms("realm", "view"))
    assert viewer.get(REALMS).status_code == 200
    response = viewer.post(REALMS, {"name": "Okta"})
    assert response.status_code == 403
    assert "realms.add_realm" in response.json()["detail"]
    nobody = make_caller(client, [])
    assert nobody.get(REALMS).status_code == 403
    assert not Realm.objects.exists()


def test_create_list_retrieve_update_delete(admin, idp_metadata):
    response = admin.post(REALMS, {"name": "Okta Prod", "scim_enabled": True})
    assert response.status_code == 201, response.content
    realm = response.json()
    assert realm["scim_root_url"] == f"http://testserver/api/realms/{realm['uuid']}/scim/v2"
    assert realm["saml_acs_url"].startswith("http://testserver/realms/")
    assert realm["backend"] == "okta" and realm["login_session_expiry"] > 0 and not realm["enabled_for_login"]

    listed = admin.get(REALMS).json()
    assert listed["count"] == 1 and listed["results"][0]["uuid"] == realm["uuid"]
    assert admin.get(f"{REALMS}?scim_enabled=false").json()["count"] == 0
    assert admin.get(f"{REALMS}{realm['uuid']}/").json()["name"] == "Okta Prod"
    assert admin.get(f"{REALMS}okta%20prod/").json()["uuid"] == realm["uuid"]  # by name, any letter case

    response = admin.patch(
        f"{REALMS}{realm['uuid']}/", {"idp_metadata": idp_metadata, "enabled_for_login": True, "scim_enabled": False}
    )
    assert response.status_code == 200, response.content
    assert response.json()["scim_root_url"] is None and response.json()["enabled_for_login"]
    assert Realm.objects.get().idp_metadata == idp_metadata.strip()

    assert admin.delete(f"{REALMS}{realm['uuid']}/").status_code == 204
    assert not Realm.objects.exists()
    assert admin.get(f"{REALMS}{realm['uuid']}/").status_code == 404


def test_the_console_rules_apply(admin):
    response = admin.post(REALMS, {"name": "Okta", "idp_metadata": "<not-saml/>"})
    assert response.status_code == 400
    assert "SAML 2.0 EntityDescriptor" in response.json()["idp_metadata"][0]
    response = admin.post(REALMS, {"name": "Okta", "enabled_for_login": True})
    assert response.status_code == 400
    assert "needs its IdP metadata" in response.json()["enabled_for_login"][0]
    assert admin.post(REALMS, {"name": "Okta", "login_session_expiry": 0}).status_code == 400
    assert admin.post(REALMS, {}).json()["name"] == ["This field is required."]
    assert not Realm.objects.exists()


def test_names_are_unique_ignoring_case_409(admin):
    existing = RealmFactory(name="Okta")
    other = RealmFactory(name="Entra")
    response = admin.post(REALMS, {"name": "OKTA"})
    assert response.status_code == 409
    assert "ignoring letter case" in response.json()["detail"] and str(existing.pk) in response.json()["detail"]
    response = admin.patch(f"{REALMS}{other.pk}/", {"name": "okta"})  # renaming onto an existing name
    assert response.status_code == 409
    assert Realm.objects.get(pk=other.pk).name == "Entra"
    assert admin.patch(f"{REALMS}{existing.pk}/", {"name": "OKTA"}).status_code == 200  # its own name, recased


def test_put_by_name_creates_then_updates(client):
    caller = make_caller(client, perms("realm", "view", "add", "change"))
    first = caller.put(f"{REALMS}Okta%20Prod/", {"scim_enabled": True})
    assert first.status_code == 201, first.content
    again = caller.put(f"{REALMS}Okta%20Prod/", {"scim_enabled": True})
    assert again.status_code == 200 and again.json()["uuid"] == first.json()["uuid"]
    assert Realm.objects.count() == 1
    renamed = caller.put(f"{REALMS}{first.json()['uuid']}/", {"name": "Okta Production"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Okta Production"
    assert renamed.json()["scim_enabled"]  # left out: kept
    assert caller.put(f"{REALMS}Other/", {"name": "Else"}).status_code == 400  # URL and body disagree
    RealmFactory(name="Entra")
    assert caller.put(f"{REALMS}Okta%20Production/", {"name": "entra"}).status_code == 409
    missing = caller.put(f"{REALMS}0b4e1f0e-4f0a-4d6e-9a55-2c1d7b3a9e10/", {"name": "X"})
    assert missing.status_code == 404  # a uuid is never invented


def test_put_that_creates_needs_add(client):
    changer = make_caller(client, perms("realm", "view", "change"))
    response = changer.put(f"{REALMS}Okta/", {"scim_enabled": True})
    assert response.status_code == 403 and "realms.add_realm" in response.json()["detail"]
    RealmFactory(name="Okta", scim_enabled=False)
    assert changer.put(f"{REALMS}Okta/", {"scim_enabled": True}).json()["scim_enabled"] is True


def test_realm_restricted_token_manages_its_realm_only(client):
    mine, other = RealmFactory(name="Mine"), RealmFactory(name="Other")
    caller = make_caller(client, perms("realm") + perms("realmgrouprolemapping"), realm=mine)
    listed = caller.get(REALMS).json()
    assert [r["name"] for r in listed["results"]] == ["Mine"]
    assert caller.get(f"{REALMS}{other.pk}/").status_code == 404
    assert caller.get(f"{REALMS}Other/").status_code == 404
    assert caller.get(f"{REALMS}{other.pk}/role-mappings/").status_code == 404
    assert caller.patch(f"{REALMS}{mine.pk}/", {"scim_enabled": False}).status_code == 200
    assert caller.post(REALMS, {"name": "New"}).status_code == 403
    assert caller.put(f"{REALMS}New/", {}).status_code == 403
    assert caller.delete(f"{REALMS}{mine.pk}/").status_code == 403
    assert Realm.objects.count() == 2


def test_role_mappings(admin, client):
    realm = RealmFactory(name="Okta")
    group = RealmGroupFactory(realm=realm, display_name="Engineering")
    viewer_role, _ = roles.ensure_realm_viewer_role()
    url = f"{REALMS}{realm.pk}/role-mappings/"
    admin.user.groups.add(viewer_role)  # holds what it maps
    response = admin.post(url, {"realm_group": "engineering", "role": "Realm viewer"})
    assert response.status_code == 201, response.content
    mapping = response.json()
    assert mapping["realm_group_name"] == "Engineering" and mapping["role_name"] == "Realm viewer"
    again = admin.post(url, {"realm_group": str(group.pk), "role": str(viewer_role.pk)})
    assert again.status_code == 200 and again.json()["id"] == mapping["id"]
    assert RealmGroupRoleMapping.objects.count() == 1
    event = AuditEvent.objects.get(action=AuditEvent.Action.ROLE_MAPPING_ADDED)
    assert event.source == "api" and event.actor_id == admin.user.pk
    assert admin.get(url).json()["results"][0]["id"] == mapping["id"]
    assert admin.get(f"{REALMS}Okta/role-mappings/{mapping['id']}/").status_code == 200
    assert admin.post(url, {"realm_group": "Nope", "role": "Realm viewer"}).status_code == 400
    assert admin.delete(f"{url}{mapping['id']}/").status_code == 204
    assert not RealmGroupRoleMapping.objects.exists()
    viewer = make_caller(client, perms("realmgrouprolemapping", "view"))
    assert viewer.get(url).status_code == 200
    assert viewer.post(url, {"realm_group": "Engineering", "role": "Realm viewer"}).status_code == 403


def test_mapping_a_role_beyond_the_callers_permissions_is_refused(admin, superuser, client):
    realm = RealmFactory(name="Okta")
    RealmGroupFactory(realm=realm, display_name="Engineering")
    GroupFactory(name="Admins", permissions=["auth.change_group", "realms.add_serviceaccount"])
    url = f"{REALMS}{realm.pk}/role-mappings/"
    response = admin.post(url, {"realm_group": "Engineering", "role": "Admins"})
    assert response.status_code == 403
    assert "auth.change_group" in response.json()["detail"]
    assert not RealmGroupRoleMapping.objects.exists()
    client.force_login(superuser)  # a console session may call the API too; a superuser holds everything
    response = client.post(url, {"realm_group": "Engineering", "role": "Admins"}, content_type="application/json")
    assert response.status_code == 201
    assert Group.objects.get(name="Admins").realm_group_mappings.count() == 1
