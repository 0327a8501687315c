"""What Microsoft Entra ID sends (shared/idp-notes.md)."""

from realms.models import RealmEmail, RealmUser

from .conftest import assert_scim_error, patch_op

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def entra_user(username: str, **extra) -> dict:
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": username.split("@")[0],
        "userName": username,
        "active": True,
        "displayName": "Ada Lovelace",
        "emails": [{"primary": True, "type": "work", "value": username}],
        "name": {"formatted": "Ada Lovelace", "familyName": "Lovelace", "givenName": "Ada"},
        ENTERPRISE: {"department": "Engineering", "employeeNumber": "42"},
    }
    body.update(extra)
    return body


def test_lookup_by_external_id_then_create_with_enterprise_extension(scim):
    assert scim.get('/Users?filter=externalId eq "ada"').json()["totalResults"] == 0
    response = scim.post("/Users", entra_user("ada@example.com"))
    assert response.status_code == 201, response.content
    user = response.json()
    assert ENTERPRISE in user["schemas"]
    assert user[ENTERPRISE] == {"department": "Engineering", "employeeNumber": "42"}
    assert scim.get('/Users?filter=externalId eq "ada"').json()["Resources"][0]["id"] == user["id"]
    # externalId is caseExact
    assert scim.get('/Users?filter=externalId eq "ADA"').json()["totalResults"] == 0


def test_capitalised_ops_boolean_strings_and_simple_paths(scim):
    user = scim.post("/Users", entra_user("ada@example.com")).json()
    response = scim.patch(
        f"/Users/{user['id']}",
        patch_op(
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Replace", "path": "name.givenName", "value": "Augusta"},
            {"op": "Add", "path": "title", "value": "Countess"},
        ),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["active"] is False
    assert body["name"]["givenName"] == "Augusta" and body["name"]["familyName"] == "Lovelace"
    assert body["title"] == "Countess"
    stored = RealmUser.objects.get(pk=user["id"])
    assert stored.active is False and stored.given_name == "Augusta"


def test_filtered_email_path_replaces_the_work_email(scim):
    user = scim.post("/Users", entra_user("ada@example.com")).json()
    response = scim.patch(
        f"/Users/{user['id']}",
        patch_op({"op": "Replace", "path": 'emails[type eq "work"].value', "value": "ada@new.example.com"}),
    )
    assert response.status_code == 200, response.content
    assert response.json()["emails"] == [{"primary": True, "type": "work", "value": "ada@new.example.com"}]
    assert list(RealmEmail.objects.filter(user_id=user["id"]).values_list("value", flat=True)) == [
        "ada@new.example.com"
    ]


def test_filtered_email_path_creates_the_email_when_none_matches(scim):
    body = entra_user("ada@example.com")
    del body["emails"]
    user = scim.post("/Users", body).json()
    response = scim.patch(
        f"/Users/{user['id']}",
        patch_op({"op": "Add", "path": 'emails[type eq "work"].value', "value": "ada@example.com"}),
    )
    assert response.status_code == 200, response.content
    assert response.json()["emails"] == [{"type": "work", "value": "ada@example.com"}]


def test_enterprise_extension_paths(scim):
    user = scim.post("/Users", entra_user("ada@example.com")).json()
    response = scim.patch(
        f"/Users/{user['id']}",
        patch_op(
            {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Research"},
            {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "boss-id"},
            {"op": "Add", "path": f"{ENTERPRISE}:costCenter", "value": "CC-1"},
        ),
    )
    assert response.status_code == 200, response.content
    ext = response.json()[ENTERPRISE]
    assert ext["department"] == "Research" and ext["costCenter"] == "CC-1" and ext["employeeNumber"] == "42"
    assert ext["manager"] == {"value": "boss-id"}
    response = scim.patch(f"/Users/{user['id']}", patch_op({"op": "Remove", "path": f"{ENTERPRISE}:department"}))
    assert "department" not in response.json()[ENTERPRISE]
    found = scim.get(f'/Users?filter={ENTERPRISE}:costCenter eq "CC-1"').json()
    assert found["totalResults"] == 1


def test_pathless_value_keyed_by_attribute_paths(scim):
    user = scim.post("/Users", entra_user("ada@example.com")).json()
    response = scim.patch(
        f"/Users/{user['id']}",
        patch_op({"op": "Replace", "value": {"name.familyName": "Byron", f"{ENTERPRISE}:division": "R&D"}}),
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"]["familyName"] == "Byron"
    assert response.json()[ENTERPRISE]["division"] == "R&D"


def test_member_removal_by_value_list_and_group_lookup_without_members(scim):
    a = scim.post("/Users", entra_user("a@example.com", externalId="a")).json()
    b = scim.post("/Users", entra_user("b@example.com", externalId="b")).json()
    group = scim.post("/Groups", {"displayName": "Team", "members": [{"value": a["id"]}, {"value": b["id"]}]}).json()
    response = scim.patch(
        f"/Groups/{group['id']}", patch_op({"op": "Remove", "path": "members", "value": [{"value": a["id"]}]})
    )
    # Entra's own SCIM examples answer a group PATCH with 204 No Content (and ignore a body).
    assert response.status_code == 204, response.content
    assert [m["value"] for m in scim.get(f"/Groups/{group['id']}").json()["members"]] == [b["id"]]
    found = scim.get('/Groups?excludedAttributes=members&filter=displayName eq "Team"').json()
    assert found["totalResults"] == 1
    assert "members" not in found["Resources"][0]
    assert found["Resources"][0]["displayName"] == "Team"


def test_invalid_boolean_string_is_a_400(scim):
    user = scim.post("/Users", entra_user("ada@example.com")).json()
    assert_scim_error(
        scim.patch(f"/Users/{user['id']}", patch_op({"op": "Replace", "path": "active", "value": "maybe"})),
        400,
        "invalidValue",
    )
