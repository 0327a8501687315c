"""Okta's real request sequences (shared/idp-notes.md), for both kinds of Okta application."""

import logging

import pytest

from realms.models import AuditEvent, RealmGroupMembership, RealmUser
from realms.tokens import generate_token

from ..factories import RealmGroupFactory, RealmGroupMembershipFactory, RealmUserFactory
from .conftest import assert_scim_error, okta_user, patch_op


def test_test_connector_requests(scim):
    response = scim.get("/Users?startIndex=1&count=2")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/scim+json")
    body = response.json()
    assert body == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }
    response = scim.get("/Groups?startIndex=1&count=100")
    assert response.status_code == 200
    assert response.json()["totalResults"] == 0


def test_import_pages_through_users_in_a_stable_order(scim, realm):
    for i in range(250):
        RealmUserFactory(realm=realm, username=f"user{i:03d}@example.com")
    seen = []
    start = 1
    while True:
        body = scim.get(f"/Users?startIndex={start}&count=100").json()
        assert isinstance(body["totalResults"], int) and body["totalResults"] == 250
        assert isinstance(body["startIndex"], int) and body["startIndex"] == start
        assert body["itemsPerPage"] == len(body["Resources"])
        seen += [r["userName"] for r in body["Resources"]]
        start += 100
        if start > body["totalResults"]:
            break
    assert len(seen) == 250 and len(set(seen)) == 250
    again = [r["userName"] for r in scim.get("/Users?startIndex=101&count=100").json()["Resources"]]
    assert again == seen[100:200]


def test_new_user_lookup_then_post(scim):
    lookup = scim.get('/Users?filter=userName eq "jane@example.com"&startIndex=1&count=100')
    assert lookup.status_code == 200
    assert lookup.json()["totalResults"] == 0 and lookup.json()["Resources"] == []

    response = scim.post("/Users", okta_user("jane@example.com", external_id="00u1abcd"))
    assert response.status_code == 201
    user = response.json()
    assert response["Location"] == f"http://testserver{scim.root}/Users/{user['id']}"
    assert response["ETag"] == user["meta"]["version"]
    assert user["userName"] == "jane@example.com"
    assert user["externalId"] == "00u1abcd"
    assert user["name"] == {"givenName": "Jane", "familyName": "Doe"}
    assert user["emails"] == [{"primary": True, "value": "jane@example.com", "type": "work"}]
    assert user["locale"] == "en-US" and user["displayName"] == "Jane Doe"
    assert user["active"] is True
    assert user["groups"] == []
    assert "password" not in user
    assert user["meta"]["resourceType"] == "User"
    assert user["meta"]["location"] == response["Location"]
    assert {"created", "lastModified", "version"} <= set(user["meta"])
    stored = RealmUser.objects.get(pk=user["id"])
    assert "password" not in stored.attributes and "tmp-Pa55word!" not in str(stored.attributes)

    found = scim.get('/Users?filter=userName eq "JANE@example.com"&startIndex=1&count=100').json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == user["id"]


def test_duplicate_username_in_any_case_is_a_409(scim):
    assert scim.post("/Users", okta_user("jane@example.com")).status_code == 201
    body = assert_scim_error(scim.post("/Users", okta_user("Jane@Example.com")), 409, "uniqueness")
    assert "Jane@Example.com" in body["detail"]
    assert RealmUser.objects.count() == 1


def test_duplicate_external_id_is_a_409(scim):
    scim.post("/Users", okta_user("a@example.com", external_id="00u1"))
    assert_scim_error(scim.post("/Users", okta_user("b@example.com", external_id="00u1")), 409, "uniqueness")


def test_a_rename_into_a_taken_username_external_id_or_group_name_is_a_409_that_changes_nothing(scim):
    scim.post("/Users", okta_user("taken@example.com", external_id="00utaken"))
    mine = scim.post("/Users", okta_user("mine@example.com", external_id="00umine")).json()
    rename = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []}
    for attribute, value in (("userName", "TAKEN@example.com"), ("externalId", "00utaken")):
        rename["Operations"] = [{"op": "replace", "path": attribute, "value": value}]
        body = assert_scim_error(scim.patch(f"/Users/{mine['id']}", rename), 409, "uniqueness")
        assert attribute in body["detail"] and value in body["detail"]
    stored = RealmUser.objects.get(pk=mine["id"])
    assert (stored.username, stored.external_id, stored.version) == ("mine@example.com", "00umine", 1)
    rename["Operations"] = [{"op": "replace", "path": "userName", "value": "MINE@example.com"}]  # its own name
    assert scim.patch(f"/Users/{mine['id']}", rename).json()["userName"] == "MINE@example.com"
    scim.post("/Groups", {"displayName": "Admins"})
    team = scim.post("/Groups", {"displayName": "Team"}).json()
    body = assert_scim_error(scim.put(f"/Groups/{team['id']}", {"displayName": "admins"}), 409, "uniqueness")
    assert "displayName" in body["detail"]


def test_profile_update_get_then_put_of_our_own_representation(scim):
    created = scim.post("/Users", okta_user("jane@example.com")).json()
    current = scim.get(f"/Users/{created['id']}").json()
    current["name"]["familyName"] = "Smith"
    current["displayName"] = "Jane Smith"
    current["password"] = "another-placeholder"  # Okta sometimes echoes a password
    current["name"]["middleName"] = "Q"  # and extra sub-attributes
    response = scim.put(f"/Users/{created['id']}", current)
    assert response.status_code == 200, response.content
    user = response.json()
    assert user["name"] == {"givenName": "Jane", "familyName": "Smith", "middleName": "Q"}
    assert user["displayName"] == "Jane Smith"
    assert user["id"] == created["id"]
    assert user["meta"]["version"] != created["meta"]["version"]
    assert "password" not in user
    stored = RealmUser.objects.get(pk=created["id"])
    assert stored.family_name == "Smith"


def test_put_clears_absent_optional_attributes(scim):
    created = scim.post("/Users", okta_user("jane@example.com")).json()
    body = {"schemas": [created["schemas"][0]], "userName": "jane@example.com", "active": True}
    user = scim.put(f"/Users/{created['id']}", body).json()
    assert "name" not in user and "emails" not in user and "locale" not in user and "externalId" not in user
    assert RealmUser.objects.get(pk=created["id"]).emails.count() == 0


def test_wizard_app_deactivates_with_a_full_put(scim):
    created = scim.post("/Users", okta_user("jane@example.com")).json()
    current = scim.get(f"/Users/{created['id']}").json()
    current["active"] = False
    response = scim.put(f"/Users/{created['id']}", current)
    assert response.status_code == 200
    assert response.json()["active"] is False
    # Kept, readable and findable, flagged inactive.
    assert scim.get(f"/Users/{created['id']}").json()["active"] is False
    found = scim.get('/Users?filter=userName eq "jane@example.com"').json()
    assert found["totalResults"] == 1 and found["Resources"][0]["active"] is False
    assert AuditEvent.objects.filter(action="user.deactivated", resource_id=created["id"]).count() == 1


def test_oin_app_deactivates_and_reactivates_with_pathless_patch(scim):
    created = scim.post("/Users", okta_user("jane@example.com")).json()
    response = scim.patch(f"/Users/{created['id']}", patch_op({"op": "replace", "value": {"active": False}}))
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert RealmUser.objects.get(pk=created["id"]).active is False
    response = scim.patch(f"/Users/{created['id']}", patch_op({"op": "replace", "value": {"active": True}}))
    assert response.json()["active"] is True
    actions = list(AuditEvent.objects.filter(resource_id=created["id"]).order_by("id").values_list("action", flat=True))
    assert actions == ["user.created", "user.deactivated", "user.reactivated"]


def test_group_push_lookup_create_rename_membership_delete(scim, realm):
    alice = scim.post("/Users", okta_user("alice@example.com")).json()
    bob = scim.post("/Users", okta_user("bob@example.com")).json()

    lookup = scim.get('/Groups?filter=displayName eq "Engineering"&startIndex=1&count=100').json()
    assert lookup["totalResults"] == 0
    response = scim.post(
        "/Groups",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Engineering",
            "members": [{"value": alice["id"], "display": "alice@example.com"}],
        },
    )
    assert response.status_code == 201, response.content
    group = response.json()
    assert group["displayName"] == "Engineering"
    assert [m["value"] for m in group["members"]] == [alice["id"]]
    assert response["Location"].endswith(f"/Groups/{group['id']}")
    assert scim.get('/Groups?filter=displayName eq "engineering"').json()["totalResults"] == 1

    # Okta sends the rename (to the same name, too) with every membership update.
    response = scim.patch(
        f"/Groups/{group['id']}",
        patch_op(
            {"op": "replace", "value": {"id": group["id"], "displayName": "Engineering"}},
            {"op": "add", "path": "members", "value": [{"value": bob["id"], "display": "bob@example.com"}]},
            {"op": "remove", "path": f'members[value eq "{alice["id"]}"]'},
        ),
    )
    assert response.status_code == 204, response.content  # Okta accepts a 204 to a group PATCH
    members = scim.get(f"/Groups/{group['id']}").json()["members"]
    assert [m["value"] for m in members] == [bob["id"]]
    assert [g["value"] for g in scim.get(f"/Users/{bob['id']}").json()["groups"]] == [group["id"]]
    assert scim.get(f"/Users/{alice['id']}").json()["groups"] == []

    response = scim.patch(
        f"/Groups/{group['id']}", patch_op({"op": "replace", "value": {"id": group["id"], "displayName": "Eng"}})
    )
    assert response.status_code == 204, response.content
    assert scim.get(f"/Groups/{group['id']}").json()["displayName"] == "Eng"

    response = scim.patch(f"/Groups/{group['id']}", patch_op({"op": "replace", "path": "members", "value": []}))
    assert response.status_code == 204
    assert scim.get(f"/Groups/{group['id']}").json()["members"] == []

    response = scim.delete(f"/Groups/{group['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert_scim_error(scim.get(f"/Groups/{group['id']}"), 404)
    assert RealmUser.objects.filter(realm=realm).count() == 2


def test_batched_membership_patch_of_100_changes(scim, realm):
    group = RealmGroupFactory(realm=realm, display_name="Big")
    old = [RealmGroupMembershipFactory(group=group).user for _ in range(100)]
    new = [RealmUserFactory(realm=realm) for _ in range(100)]
    operations = [{"op": "remove", "path": f'members[value eq "{u.pk}"]'} for u in old[:50]]
    operations.append({"op": "add", "path": "members", "value": [{"value": str(u.pk)} for u in new]})
    response = scim.patch(f"/Groups/{group.pk}", patch_op(*operations))
    assert response.status_code == 204, response.content
    assert response.content == b""  # no member list read back: the cost is the change's
    members = set(RealmGroupMembership.objects.filter(group=group).values_list("user_id", flat=True))
    assert members == {u.pk for u in old[50:]} | {u.pk for u in new}
    event = AuditEvent.objects.get(action="group.members_changed")
    assert len(event.changes["members"]["added"]) == 100
    assert len(event.changes["members"]["removed"]) == 50


def test_wizard_app_group_put_with_members_applies_the_difference(scim, realm):
    users = [scim.post("/Users", okta_user(f"u{i}@example.com")).json() for i in range(3)]
    group = scim.post(
        "/Groups", {"displayName": "Sales", "members": [{"value": users[0]["id"]}, {"value": users[1]["id"]}]}
    ).json()
    current = scim.get(f"/Groups/{group['id']}").json()
    current["displayName"] = "Sales EMEA"
    current["members"] = [{"value": users[1]["id"]}, {"value": users[2]["id"]}]
    response = scim.put(f"/Groups/{group['id']}", current)
    assert response.status_code == 200, response.content
    assert response.json()["displayName"] == "Sales EMEA"
    assert sorted(m["value"] for m in response.json()["members"]) == sorted([users[1]["id"], users[2]["id"]])
    event = AuditEvent.objects.filter(resource_id=group["id"]).latest("id")
    assert event.action == "group.updated"
    assert [m["id"] for m in event.changes["members"]["added"]] == [users[2]["id"]]
    assert [m["id"] for m in event.changes["members"]["removed"]] == [users[0]["id"]]


def test_unknown_member_id_is_a_400_naming_it(scim, realm):
    stranger = RealmUserFactory()  # a user of another realm
    group = scim.post("/Groups", {"displayName": "Ops"}).json()
    body = assert_scim_error(
        scim.patch(
            f"/Groups/{group['id']}", patch_op({"op": "add", "path": "members", "value": [{"value": str(stranger.pk)}]})
        ),
        400,
        "invalidValue",
    )
    assert str(stranger.pk) in body["detail"]
    body = assert_scim_error(
        scim.post("/Groups", {"displayName": "Ops2", "members": [{"value": "not-a-uuid"}]}), 400, "invalidValue"
    )
    assert "not-a-uuid" in body["detail"]
    assert RealmGroupMembership.objects.count() == 0


def test_okta_test_suite_posts_application_json(scim):
    response = scim.post("/Users", okta_user("json@example.com"), content_type="application/json")
    assert response.status_code == 201
    assert response["Content-Type"].startswith("application/scim+json")


def test_every_endpoint_answers_with_and_without_trailing_slash(scim):
    user = scim.post("/Users/", okta_user("slash@example.com")).json()
    for path in (
        "/Users",
        "/Users/",
        f"/Users/{user['id']}",
        f"/Users/{user['id']}/",
        "/Groups/",
        "/ServiceProviderConfig/",
        "/ResourceTypes/",
        "/Schemas/",
    ):
        response = scim.get(path)
        assert response.status_code == 200, path


def test_a_stray_bearer_in_oktas_token_field_is_accepted_and_logged(scim, caplog):
    """An Okta admin who pastes "Bearer <token>" into the Provisioning tab's token field makes Okta send
    `Authorization: Bearer Bearer <token>`. The token is still checked in full; a warning, without the token, says
    what to fix."""
    secret = scim.token
    with caplog.at_level(logging.WARNING):
        response = scim.get(
            "/Users?startIndex=1&count=2", token=None, headers={"Authorization": f"Bearer Bearer {secret}"}
        )
        assert response.status_code == 200, response.content
        assert scim.get("/Groups", token=None, headers={"Authorization": f"bearer  BEARER {secret}"}).status_code == 200
    warnings = [r for r in caplog.records if r.name == "realms.authentication"]
    assert len(warnings) == 2 and all(r.levelno == logging.WARNING for r in warnings)
    assert "stray 'Bearer'" in warnings[0].getMessage() and "Okta" in warnings[0].getMessage()
    assert secret[:-4] not in caplog.text and secret[-8:] not in caplog.text


@pytest.mark.parametrize(
    "header",
    [
        "Bearer Bearer",
        "Bearer Bearer Bearer {secret}",
        "Bearer Bearer {secret}x",
        "Bearer Bearer {other}",
        "Bearer x {secret}",
    ],
)
def test_a_stray_bearer_does_not_loosen_the_token_check(scim, header):
    header = header.format(secret=scim.token, other=generate_token().secret)
    assert_scim_error(scim.get("/Users", token=None, headers={"Authorization": header}), 401)
