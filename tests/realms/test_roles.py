"""Console roles from realm groups, driven the way they happen: SAML sign-in, then real SCIM requests from Okta."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from realms.models import AuditEvent, ConsoleUserLink, RealmGroupRoleMapping
from tests.factories import User

from ..factories import GroupFactory, RealmGroupFactory, RealmUserFactory, ServiceAccountFactory, UserFactory
from ..scim.conftest import SCIMClient, okta_user, patch_op, scim_token
from .saml_idp import TestIdP, install_idp, make_key_pair, make_saml_realm, sign_in


@pytest.fixture(scope="module")
def idp_keys(tmp_path_factory):
    return make_key_pair(tmp_path_factory.mktemp("idp"), "okta-idp")


@pytest.fixture
def saml_realm(db):
    return make_saml_realm()


@pytest.fixture
def idp(client, saml_realm, idp_keys) -> TestIdP:
    return install_idp(client, saml_realm, idp_keys)


@pytest.fixture
def scim(saml_realm) -> SCIMClient:
    """Okta's provisioning, on its own connection (it shares nothing with the browser)."""
    return SCIMClient(Client(), saml_realm, scim_token())


@pytest.fixture
def admins_role(db):
    return GroupFactory(name="Console admins", permissions=["realms.view_realm"])


def provision(scim: SCIMClient, username: str) -> str:
    response = scim.post("/Users", okta_user(username))
    assert response.status_code == 201, response.content
    return response.json()["id"]


def create_group(scim: SCIMClient, name: str, member_ids=()) -> str:
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": name,
        "members": [{"value": i} for i in member_ids],
    }
    response = scim.post("/Groups", body)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def add_member(scim: SCIMClient, group_id: str, user_id: str):
    op = {"op": "add", "path": "members", "value": [{"value": user_id}]}
    response = scim.patch(f"/Groups/{group_id}", patch_op(op))
    assert response.status_code == 204, response.content
    return response


def remove_member(scim: SCIMClient, group_id: str, user_id: str):
    op = {"op": "remove", "path": f'members[value eq "{user_id}"]'}
    response = scim.patch(f"/Groups/{group_id}", patch_op(op))
    assert response.status_code == 204, response.content
    return response


def map_role(realm_group_id: str, role) -> None:
    from realms.models import RealmGroup
    from realms.services import Actor, roles

    roles.add_role_mappings(RealmGroup.objects.get(pk=realm_group_id), [role], Actor(source="console"))


def console_user(username: str) -> User:
    return User.objects.get(username=username)


def roles_of(username: str) -> set[str]:
    return set(console_user(username).groups.values_list("name", flat=True))


def signed_in(browser: Client) -> bool:
    response = browser.get("/")
    return response.status_code == 200


# ---------------------------------------------------------------------------------------------------- lifecycle


def test_role_granted_at_sign_in(client, saml_realm, idp, scim, admins_role):
    user_id = provision(scim, "jane@example.com")
    group_id = create_group(scim, "Okta admins", [user_id])
    map_role(group_id, admins_role)
    sign_in(client, saml_realm, idp, "jane@example.com")
    assert roles_of("jane@example.com") == {"Console admins"}
    assert client.get("/realms/").status_code == 200  # the role's permission works at once


def test_membership_added_then_removed_over_scim_grants_then_revokes_at_once(
    client, saml_realm, idp, scim, admins_role
):
    user_id = provision(scim, "jane@example.com")
    group_id = create_group(scim, "Okta admins")
    map_role(group_id, admins_role)
    sign_in(client, saml_realm, idp, "jane@example.com")
    assert roles_of("jane@example.com") == set()
    assert client.get("/realms/").status_code == 403

    add_member(scim, group_id, user_id)
    assert roles_of("jane@example.com") == {"Console admins"}
    assert client.get("/realms/").status_code == 200  # no new sign-in needed

    remove_member(scim, group_id, user_id)
    assert roles_of("jane@example.com") == set()
    assert client.get("/realms/").status_code == 403

    events = AuditEvent.objects.filter(resource_type="ConsoleUser", source="scim").order_by("created_at", "id")
    assert [e.action for e in events] == ["role.granted", "role.revoked"]
    assert events[0].changes["role"]["name"] == "Console admins"
    assert events[0].actor_username  # the service account that made the change


def test_put_of_group_members_okta_app_wizard_style(client, saml_realm, idp, scim, admins_role):
    user_id = provision(scim, "jane@example.com")
    group_id = create_group(scim, "Okta admins")
    map_role(group_id, admins_role)
    sign_in(client, saml_realm, idp, "jane@example.com")
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Okta admins"}
    assert scim.put(f"/Groups/{group_id}", {**body, "members": [{"value": user_id}]}).status_code == 200
    assert roles_of("jane@example.com") == {"Console admins"}
    assert scim.put(f"/Groups/{group_id}", {**body, "members": []}).status_code == 200
    assert roles_of("jane@example.com") == set()


def test_roles_given_by_hand_are_never_removed(client, saml_realm, idp, scim, admins_role):
    support = GroupFactory(name="Support")
    user_id = provision(scim, "jane@example.com")
    group_id = create_group(scim, "Okta admins")
    map_role(group_id, admins_role)
    map_role(group_id, support)
    sign_in(client, saml_realm, idp, "jane@example.com")
    console_user("jane@example.com").groups.add(support)  # given by hand before the mapping did
    add_member(scim, group_id, user_id)
    assert roles_of("jane@example.com") == {"Console admins", "Support"}
    remove_member(scim, group_id, user_id)
    assert roles_of("jane@example.com") == {"Support"}


def test_a_role_given_by_two_groups_stays_while_one_remains(client, saml_realm, idp, scim, admins_role):
    user_id = provision(scim, "jane@example.com")
    first = create_group(scim, "Okta admins", [user_id])
    second = create_group(scim, "Okta owners", [user_id])
    map_role(first, admins_role)
    map_role(second, admins_role)
    sign_in(client, saml_realm, idp, "jane@example.com")
    remove_member(scim, first, user_id)
    assert roles_of("jane@example.com") == {"Console admins"}
    remove_member(scim, second, user_id)
    assert roles_of("jane@example.com") == set()


def test_group_deleted_over_scim_revokes_its_roles(client, saml_realm, idp, scim, admins_role):
    user_id = provision(scim, "jane@example.com")
    group_id = create_group(scim, "Okta admins", [user_id])
    map_role(group_id, admins_role)
    sign_in(client, saml_realm, idp, "jane@example.com")
    assert scim.delete(f"/Groups/{group_id}").status_code == 204
    assert roles_of("jane@example.com") == set()
    assert not RealmGroupRoleMapping.objects.exists()
    assert AuditEvent.objects.filter(action="role_mapping.removed", changes__reason="realm group deleted").exists()


@pytest.mark.parametrize("how", ["patch", "put", "delete"])
def test_deactivation_over_scim_removes_roles_and_ends_sessions(client, saml_realm, idp, scim, admins_role, how):
    user_id = provision(scim, "jane@example.com")
    group_id = create_group(scim, "Okta admins", [user_id])
    map_role(group_id, admins_role)
    hand_given = GroupFactory(name="Hand given")
    sign_in(client, saml_realm, idp, "jane@example.com")
    console_user("jane@example.com").groups.add(hand_given)
    session_key = client.session.session_key
    assert signed_in(client)

    if how == "patch":  # Okta OIN apps
        response = scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": False}}))
    elif how == "put":  # Okta App Integration Wizard apps
        response = scim.put(f"/Users/{user_id}", {**okta_user("jane@example.com"), "active": False})
    else:
        response = scim.delete(f"/Users/{user_id}")
    assert response.status_code in (200, 204)

    user = console_user("jane@example.com")
    assert not user.is_active
    assert roles_of("jane@example.com") == {"Hand given"}  # only the mapped role goes
    assert not Session.objects.filter(session_key=session_key).exists()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert AuditEvent.objects.filter(action="console_user.deactivated", resource_id=str(user.pk)).exists()


def test_reactivation_over_scim_restores_roles(client, saml_realm, idp, scim, admins_role):
    user_id = provision(scim, "jane@example.com")
    group_id = create_group(scim, "Okta admins", [user_id])
    map_role(group_id, admins_role)
    sign_in(client, saml_realm, idp, "jane@example.com")
    scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": False}}))
    assert roles_of("jane@example.com") == set()

    response = scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": True}}))
    assert response.status_code == 200
    user = console_user("jane@example.com")
    assert user.is_active
    assert roles_of("jane@example.com") == {"Console admins"}
    browser = Client()
    assert sign_in(browser, saml_realm, idp, "jane@example.com").status_code == 302
    assert browser.get("/realms/").status_code == 200


def test_reactivation_does_not_undo_a_deactivation_made_by_hand(client, saml_realm, idp, scim, admins_role):
    user_id = provision(scim, "jane@example.com")
    sign_in(client, saml_realm, idp, "jane@example.com")
    User.objects.filter(username="jane@example.com").update(is_active=False)  # an admin disabled the account
    scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": False}}))
    scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": True}}))
    assert not console_user("jane@example.com").is_active


def test_user_deleted_then_provisioned_again_gets_its_console_account_back(client, saml_realm, idp, scim, admins_role):
    user_id = provision(scim, "jane@example.com")
    sign_in(client, saml_realm, idp, "jane@example.com")
    first = console_user("jane@example.com")
    assert scim.delete(f"/Users/{user_id}").status_code == 204
    new_id = provision(scim, "jane@example.com")
    group_id = create_group(scim, "Okta admins", [new_id])
    map_role(group_id, admins_role)
    browser = Client()
    assert sign_in(browser, saml_realm, idp, "jane@example.com").status_code == 302
    user = console_user("jane@example.com")
    assert user == first and user.is_active
    assert roles_of("jane@example.com") == {"Console admins"}


def test_superusers_and_service_accounts_are_never_touched(saml_realm, scim, admins_role):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    robot = ServiceAccountFactory(username="robot")
    realm_root = RealmUserFactory(realm=saml_realm, username="root@example.com")
    realm_robot = RealmUserFactory(realm=saml_realm, username="robot@example.com")
    ConsoleUserLink.objects.create(realm=saml_realm, console_user=root, realm_user=realm_root)
    ConsoleUserLink.objects.create(realm=saml_realm, console_user=robot, realm_user=realm_robot)
    group = RealmGroupFactory(realm=saml_realm, display_name="Okta admins")
    map_role(str(group.pk), admins_role)
    add_member(scim, str(group.pk), str(realm_root.pk))
    add_member(scim, str(group.pk), str(realm_robot.pk))
    for realm_user in (realm_root, realm_robot):
        scim.patch(f"/Users/{realm_user.pk}", patch_op({"op": "replace", "value": {"active": False}}))
    root.refresh_from_db()
    robot.refresh_from_db()
    assert root.is_active and root.is_superuser
    assert not root.groups.exists() and not robot.groups.exists()
    assert not AuditEvent.objects.filter(resource_type="ConsoleUser").exists()


# ---------------------------------------------------------------------------------------------------- console pages


def test_admin_maps_a_realm_group_on_the_console_and_members_get_the_role_at_once(
    admin_client, saml_realm, idp, scim, admins_role
):
    user_id = provision(scim, "jane@example.com")
    group_id = create_group(scim, "Okta admins", [user_id])
    browser = Client()
    sign_in(browser, saml_realm, idp, "jane@example.com")

    detail = admin_client.get(f"/realms/{saml_realm.pk}/").content.decode()
    assert f'href="/realms/{saml_realm.pk}/roles/"' in detail
    form = admin_client.get(f"/realms/{saml_realm.pk}/roles/add/")
    assert form.status_code == 200 and "Okta admins" in form.content.decode()
    response = admin_client.post(
        f"/realms/{saml_realm.pk}/roles/add/", {"realm_group": group_id, "roles": [admins_role.pk]}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/realms/{saml_realm.pk}/roles/"
    page = admin_client.get(response["Location"]).content.decode()
    assert "Okta admins" in page and "Console admins" in page
    assert roles_of("jane@example.com") == {"Console admins"}
    added = AuditEvent.objects.get(action="role_mapping.added")
    assert (added.source, added.actor_username) == ("console", "root")

    mapping = RealmGroupRoleMapping.objects.get()
    confirm = admin_client.get(f"/realms/{saml_realm.pk}/roles/{mapping.pk}/delete/")
    assert confirm.status_code == 200
    response = admin_client.post(f"/realms/{saml_realm.pk}/roles/{mapping.pk}/delete/")
    assert response.status_code == 302
    assert roles_of("jane@example.com") == set()
    assert not RealmGroupRoleMapping.objects.exists()
    assert AuditEvent.objects.filter(action="role_mapping.removed", source="console").exists()
    assert AuditEvent.objects.filter(action="role.revoked", source="console").exists()


def test_role_mapping_form_only_offers_groups_of_the_realm(admin_client, saml_realm, admins_role):
    other = RealmGroupFactory(display_name="Elsewhere")
    response = admin_client.post(
        f"/realms/{saml_realm.pk}/roles/add/", {"realm_group": str(other.pk), "roles": [admins_role.pk]}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not RealmGroupRoleMapping.objects.exists()


def test_role_mapping_pages_need_permissions(client, saml_realm, admins_role):
    group = RealmGroupFactory(realm=saml_realm)
    viewer = UserFactory(permissions=["realms.view_realmgrouprolemapping"])
    client.force_login(viewer)
    assert client.get(f"/realms/{saml_realm.pk}/roles/").status_code == 200
    response = client.post(f"/realms/{saml_realm.pk}/roles/add/", {"realm_group": group.pk, "roles": [admins_role.pk]})
    assert response.status_code == 403
    assert not RealmGroupRoleMapping.objects.exists()
    client.force_login(UserFactory())
    assert client.get(f"/realms/{saml_realm.pk}/roles/").status_code == 403


# ---------------------------------------------------------------------------------------------------- sources gone


@pytest.fixture
def admin_browser(superuser) -> Client:
    """The administrator's own browser (Jane's is `client`)."""
    browser = Client()
    browser.force_login(superuser)
    return browser


@pytest.fixture
def jane_with_role(client, saml_realm, idp, scim, admins_role):
    """Jane signed in through the realm, holding the role her realm group maps to, and a hand-given role."""
    user_id = provision(scim, "jane@example.com")
    group_id = create_group(scim, "Okta admins", [user_id])
    map_role(group_id, admins_role)
    sign_in(client, saml_realm, idp, "jane@example.com")
    console_user("jane@example.com").groups.add(GroupFactory(name="Given by hand"))
    assert roles_of("jane@example.com") == {"Console admins", "Given by hand"} and signed_in(client)
    return {"user_id": user_id, "group_id": group_id}


def test_deleting_the_realm_in_the_admin_revokes_its_roles_and_ends_its_sessions(
    client, admin_browser, saml_realm, jane_with_role
):
    response = admin_browser.post(f"/admin/realms/realm/{saml_realm.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert roles_of("jane@example.com") == {"Given by hand"}
    assert not signed_in(client)
    # The audit trail outlives the realm, the revocation included.
    revoked = AuditEvent.objects.get(action="role.revoked")
    assert revoked.realm_id is None and revoked.changes["role"]["name"] == "Console admins"
    assert AuditEvent.objects.filter(action="user.created").exists()
    assert "deleted realm" in admin_browser.get("/realms/activity/").content.decode()


def test_turning_the_realm_login_off_revokes_its_roles_and_ends_its_sessions(
    client, admin_browser, saml_realm, idp, jane_with_role
):
    from realms.models import Realm

    saml_realm.refresh_from_db()
    saml_realm.enabled_for_login = False
    saml_realm.save()
    assert roles_of("jane@example.com") == {"Given by hand"}
    assert not signed_in(client)
    # Login on again: the role comes back with the next sign-in.
    Realm.objects.filter(pk=saml_realm.pk).update(enabled_for_login=True)
    sign_in(client, saml_realm, idp, "jane@example.com")
    assert roles_of("jane@example.com") == {"Console admins", "Given by hand"}


def test_turning_login_off_on_the_console_page_revokes_roles(client, admin_browser, saml_realm, jane_with_role):
    page = admin_browser.get(f"/realms/{saml_realm.pk}/update/")
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None and k != "enabled_for_login"}
    response = admin_browser.post(f"/realms/{saml_realm.pk}/update/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert roles_of("jane@example.com") == {"Given by hand"}
    assert not signed_in(client)


def test_deleting_the_realm_group_in_the_admin_revokes_its_roles(client, admin_browser, jane_with_role):
    group_id = jane_with_role["group_id"]
    response = admin_browser.post(f"/admin/realms/realmgroup/{group_id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert roles_of("jane@example.com") == {"Given by hand"}
    event = AuditEvent.objects.filter(action="role.revoked").get()
    assert event.source == "admin" and event.actor_username == "root"


def test_deleting_the_realm_user_in_the_admin_revokes_roles_and_ends_sessions(client, admin_browser, jane_with_role):
    user_id = jane_with_role["user_id"]
    response = admin_browser.post(f"/admin/realms/realmuser/{user_id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert roles_of("jane@example.com") == {"Given by hand"}
    assert not console_user("jane@example.com").is_active
    assert not signed_in(client)
