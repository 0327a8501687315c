"""The public signals from every source that changes realm users, groups and console roles: SAML sign-in (with a
real pysaml2 IdP), the console's role mapping pages, the Django admin, SCIM, and a host's own code. Each source
names itself and its actor; each change is announced once, after its commit."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from realms.models import RealmGroup, RealmGroupRoleMapping, RealmUser

from ..factories import GroupFactory
from ..scim.conftest import SCIMClient, okta_user, patch_op, scim_token
from .saml_idp import acs_path, install_idp, make_key_pair, make_saml_realm, sign_in, user_attributes


@pytest.fixture(scope="module")
def idp_keys(tmp_path_factory):
    return make_key_pair(tmp_path_factory.mktemp("idp"), "okta-idp")


@pytest.fixture
def saml_realm(db):
    return make_saml_realm()


@pytest.fixture
def idp(client, saml_realm, idp_keys):
    return install_idp(client, saml_realm, idp_keys)


@pytest.fixture
def scim(saml_realm) -> SCIMClient:
    return SCIMClient(Client(), saml_realm, scim_token())


@pytest.fixture
def admins_role(db):
    return GroupFactory(name="Console admins", permissions=["realms.view_realm"])


def mapped_group_with(scim, saml_realm, role, username: str = "jane@example.com") -> tuple[str, str]:
    """Jane provisioned by SCIM, in a realm group that maps to `role`."""
    from realms.services import Actor, roles

    user_id = scim.post("/Users", okta_user(username)).json()["id"]
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Okta admins"}
    body["members"] = [{"value": user_id}]
    group_id = scim.post("/Groups", body).json()["id"]
    roles.add_role_mappings(RealmGroup.objects.get(pk=group_id), [role], Actor(source="console"))
    return user_id, group_id


def console_user(username: str = "jane@example.com"):
    return get_user_model().objects.get(username=username)


# ---------------------------------------------------------------------------------------------------- SAML


def test_a_first_saml_sign_in_provisions_the_realm_user(client, saml_realm, idp, received, commit):
    with commit():
        response = sign_in(client, saml_realm, idp, "jane@example.com")
    assert response.status_code == 302
    event = received.one("realm_user_provisioned")
    assert received.names == ["realm_user_provisioned"]
    assert event["realm_user"].username == "jane@example.com"
    assert event["realm"] == saml_realm
    assert event["source"] == "saml" and event["actor"].source == "saml"
    assert event["actor"].user is None and event["actor"].token_hint == ""


def test_a_saml_sign_in_with_new_names_updates_the_realm_user(client, saml_realm, idp, received, commit):
    sign_in(client, saml_realm, idp, "jane@example.com")
    client.post("/logout/")
    received.clear()
    with commit():
        response = client.get(f"/realms/{saml_realm.pk}/saml/login/")
        attributes = user_attributes("jane@example.com", "Janet", "Smith")
        saml_response, relay_state = idp.answer(response["Location"], attributes, name_id="jane@example.com")
        client.post(acs_path(saml_realm), {"SAMLResponse": saml_response, "RelayState": relay_state})
    event = received.one("realm_user_updated")
    assert received.names == ["realm_user_updated"]
    assert event["changes"]["name"]["new"]["givenName"] == "Janet"
    assert event["source"] == "saml"


def test_saml_sign_in_grants_the_mapped_roles(client, saml_realm, idp, scim, admins_role, received, commit):
    mapped_group_with(scim, saml_realm, admins_role)
    received.clear()
    with commit():
        sign_in(client, saml_realm, idp, "jane@example.com")
    event = received.one("console_roles_granted")
    assert received.names == ["console_roles_granted"]
    assert event.sender is get_user_model()
    assert event["user"] == console_user()
    assert event["roles"] == [admins_role]
    assert event["realm"] == saml_realm
    assert event["source"] == "saml"


# ---------------------------------------------------------------------------------------------------- SCIM → roles


def test_scim_changes_announce_the_roles_they_revoke_and_grant(
    client, saml_realm, idp, scim, admins_role, received, commit
):
    user_id, group_id = mapped_group_with(scim, saml_realm, admins_role)
    sign_in(client, saml_realm, idp, "jane@example.com")
    received.clear()
    with commit():
        op = {"op": "remove", "path": f'members[value eq "{user_id}"]'}
        assert scim.patch(f"/Groups/{group_id}", patch_op(op)).status_code == 204
    assert received.names == ["console_roles_revoked", "realm_group_members_removed"]
    revoked = received.one("console_roles_revoked")
    assert (revoked["user"], revoked["roles"], revoked["source"]) == (console_user(), [admins_role], "scim")
    assert revoked["actor"].token_hint and scim.token.endswith(revoked["actor"].token_hint)

    received.clear()
    with commit():
        op = {"op": "add", "path": "members", "value": [{"value": user_id}]}
        scim.patch(f"/Groups/{group_id}", patch_op(op))
    assert received.names == ["console_roles_granted", "realm_group_members_added"]

    received.clear()
    with commit():
        scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": False}}))
    assert received.names == ["console_roles_revoked", "realm_user_deactivated"]


# ---------------------------------------------------------------------------------------------------- console


def test_console_role_mapping_pages_announce_the_roles_granted_and_revoked(
    client, saml_realm, idp, scim, admins_role, superuser, received, commit
):
    user_id = scim.post("/Users", okta_user("jane@example.com")).json()["id"]
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Okta admins"}
    group_id = scim.post("/Groups", {**body, "members": [{"value": user_id}]}).json()["id"]
    sign_in(client, saml_realm, idp, "jane@example.com")
    admin = Client()
    admin.force_login(superuser)
    received.clear()
    with commit():
        response = admin.post(
            f"/realms/{saml_realm.pk}/roles/add/", {"realm_group": group_id, "roles": [admins_role.pk]}
        )
    assert response.status_code == 302
    event = received.one("console_roles_granted")
    assert received.names == ["console_roles_granted"]
    assert (event["user"], event["roles"], event["realm"]) == (console_user(), [admins_role], saml_realm)
    assert event["source"] == "console" and event["actor"].user == superuser

    mapping = RealmGroupRoleMapping.objects.get()
    received.clear()
    with commit():
        response = admin.post(f"/realms/{saml_realm.pk}/roles/{mapping.pk}/delete/")
    assert response.status_code == 302
    event = received.one("console_roles_revoked")
    assert received.names == ["console_roles_revoked"]
    assert (event["user"], event["roles"], event["source"]) == (console_user(), [admins_role], "console")
    assert event["actor"].user == superuser


def test_management_api_role_mappings_announce_the_roles_granted_and_revoked(
    client, saml_realm, idp, scim, admins_role, superuser, received, commit
):
    user_id = scim.post("/Users", okta_user("jane@example.com")).json()["id"]
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Okta admins"}
    scim.post("/Groups", {**body, "members": [{"value": user_id}]})
    sign_in(client, saml_realm, idp, "jane@example.com")
    api = Client()
    api.force_login(superuser)
    url = f"/api/realms/{saml_realm.pk}/role-mappings/"
    received.clear()
    with commit():
        response = api.post(
            url, {"realm_group": "Okta admins", "role": admins_role.name}, content_type="application/json"
        )
    assert response.status_code == 201, response.content
    event = received.one("console_roles_granted")
    assert (event["user"], event["roles"], event["source"]) == (console_user(), [admins_role], "api")
    assert event["actor"].user == superuser
    received.clear()
    with commit():
        assert api.delete(f"{url}{response.json()['id']}/").status_code == 204
    event = received.one("console_roles_revoked")
    assert (event["user"], event["roles"], event["source"]) == (console_user(), [admins_role], "api")


def test_a_realm_whose_sign_in_is_turned_off_announces_the_roles_it_took(
    client, saml_realm, idp, scim, admins_role, received, commit
):
    mapped_group_with(scim, saml_realm, admins_role)
    sign_in(client, saml_realm, idp, "jane@example.com")
    received.clear()
    with commit():
        saml_realm.enabled_for_login = False
        saml_realm.save()  # a host's code, the console or the admin: the same receiver acts
    event = received.one("console_roles_revoked")
    assert (event["user"], event["roles"], event["realm"]) == (console_user(), [admins_role], saml_realm)


# ---------------------------------------------------------------------------------------------------- admin


def test_deleting_in_the_django_admin_announces_the_deletions(
    client, saml_realm, idp, scim, admins_role, superuser, received, commit
):
    user_id, group_id = mapped_group_with(scim, saml_realm, admins_role)
    sign_in(client, saml_realm, idp, "jane@example.com")
    admin = Client()
    admin.force_login(superuser)
    received.clear()
    with commit():
        response = admin.post(f"/admin/realms/realmgroup/{group_id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not RealmGroup.objects.exists()
    assert received.names == ["console_roles_revoked", "realm_group_deleted"]
    event = received.one("realm_group_deleted")
    assert str(event["realm_group"].pk) == group_id and event["realm_group"].display_name == "Okta admins"
    assert [str(i) for i in event["member_ids"]] == [user_id]
    assert event["source"] == "admin" and event["actor"].user == superuser and event["realm"] == saml_realm

    received.clear()
    with commit():
        response = admin.post(f"/admin/realms/realmuser/{user_id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not RealmUser.objects.exists()
    event = received.one("realm_user_deleted")
    assert received.names == ["realm_user_deleted"]  # no role left to revoke
    assert str(event["realm_user"].pk) == user_id
    assert event["source"] == "admin" and event["actor"].user == superuser
