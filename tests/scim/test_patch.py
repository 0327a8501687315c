"""PATCH (RFC 7644 §3.5.2): every path form, op names, atomicity."""

import pytest

from realms.models import AuditEvent, RealmGroupMembership, RealmUser

from ..factories import RealmGroupFactory, RealmGroupMembershipFactory, RealmUserFactory
from .conftest import assert_scim_error, okta_user, patch_op

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.fixture
def user(scim):
    body = okta_user("jane@example.com")
    body["phoneNumbers"] = [{"value": "+1 555 0100", "type": "work"}, {"value": "+1 555 0199", "type": "mobile"}]
    body["emails"].append({"value": "jane@home.example", "type": "home", "primary": False})
    return scim.post("/Users", body).json()


def patched(scim, user, *operations):
    response = scim.patch(f"/Users/{user['id']}", patch_op(*operations))
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("op", ["add", "Add", "ADD", "replace", "Replace", "REPLACE"])
def test_op_names_are_case_insensitive(scim, user, op):
    assert patched(scim, user, {"op": op, "path": "title", "value": "CTO"})["title"] == "CTO"


def test_simple_path(scim, user):
    assert patched(scim, user, {"op": "replace", "path": "displayName", "value": "J. D."})["displayName"] == "J. D."
    assert "displayName" not in patched(scim, user, {"op": "remove", "path": "displayName"})


def test_attribute_names_in_paths_are_case_insensitive(scim, user):
    body = patched(scim, user, {"op": "replace", "path": "DISPLAYNAME", "value": "X"})
    assert body["displayName"] == "X"
    assert "DISPLAYNAME" not in body


def test_sub_attribute_path(scim, user):
    body = patched(scim, user, {"op": "replace", "path": "name.familyName", "value": "Roe"})
    assert body["name"] == {"givenName": "Jane", "familyName": "Roe"}
    body = patched(scim, user, {"op": "remove", "path": "name.givenName"})
    assert body["name"] == {"familyName": "Roe"}
    assert RealmUser.objects.get(pk=user["id"]).given_name == ""


def test_urn_prefixed_core_path(scim, user):
    body = patched(
        scim, user, {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:nickName", "value": "JJ"}
    )
    assert body["nickName"] == "JJ"


def test_value_filter_paths(scim, user):
    body = patched(scim, user, {"op": "replace", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+33 1"})
    assert {p["type"]: p["value"] for p in body["phoneNumbers"]} == {"work": "+1 555 0100", "mobile": "+33 1"}
    body = patched(scim, user, {"op": "remove", "path": 'phoneNumbers[type eq "work"]'})
    assert [p["type"] for p in body["phoneNumbers"]] == ["mobile"]
    body = patched(scim, user, {"op": "remove", "path": 'emails[value ew "home.example"]'})
    assert [e["value"] for e in body["emails"]] == ["jane@example.com"]
    assert list(RealmUser.objects.get(pk=user["id"]).emails.values_list("value", flat=True)) == ["jane@example.com"]


def test_replace_filter_without_match_and_not_creatable_is_no_target(scim, user):
    assert_scim_error(
        scim.patch(
            f"/Users/{user['id']}",
            patch_op({"op": "replace", "path": 'phoneNumbers[value co "999"].type', "value": "fax"}),
        ),
        400,
        "noTarget",
    )


def test_add_to_multi_valued_appends_and_keeps_one_primary(scim, user):
    body = patched(scim, user, {"op": "add", "path": "emails", "value": [{"value": "j@new.example", "primary": True}]})
    assert [e["value"] for e in body["emails"]] == ["jane@example.com", "jane@home.example", "j@new.example"]
    assert [e.get("primary") for e in body["emails"]] == [False, False, True]


def test_replace_multi_valued_without_filter_replaces_all(scim, user):
    body = patched(scim, user, {"op": "replace", "path": "emails", "value": [{"value": "only@example.com"}]})
    assert body["emails"] == [{"value": "only@example.com"}]


def test_pathless_add_and_extension_object(scim, user):
    body = patched(
        scim,
        user,
        {"op": "add", "value": {"title": "Boss", ENTERPRISE: {"department": "Ops"}, "urn:acme:1.0:User": {"x": 1}}},
    )
    assert body["title"] == "Boss"
    assert body[ENTERPRISE] == {"department": "Ops"}
    assert body["urn:acme:1.0:User"] == {"x": 1}
    assert "urn:acme:1.0:User" in body["schemas"] and ENTERPRISE in body["schemas"]


def test_bare_extension_urn_path(scim, user):
    patched(scim, user, {"op": "add", "path": ENTERPRISE, "value": {"department": "Ops", "division": "A"}})
    body = patched(scim, user, {"op": "remove", "path": ENTERPRISE})
    assert ENTERPRISE not in body and ENTERPRISE not in body["schemas"]


def test_remove_without_path_is_no_target(scim, user):
    assert_scim_error(scim.patch(f"/Users/{user['id']}", patch_op({"op": "remove"})), 400, "noTarget")


@pytest.mark.parametrize("path", ["id", "meta", "groups", "meta.created"])
def test_read_only_paths_are_mutability_errors(scim, user, path):
    assert_scim_error(
        scim.patch(f"/Users/{user['id']}", patch_op({"op": "replace", "path": path, "value": "x"})), 400, "mutability"
    )


def test_removing_username_is_refused(scim, user):
    response = scim.patch(f"/Users/{user['id']}", patch_op({"op": "remove", "path": "userName"}))
    assert_scim_error(response, 400)


@pytest.mark.parametrize(
    "body, scim_type",
    [
        ({"Operations": [{"op": "jump", "path": "title", "value": "x"}]}, "invalidSyntax"),
        ({"Operations": []}, "invalidSyntax"),
        ({"Operations": "replace"}, "invalidSyntax"),
        ({"schemas": ["urn:wrong"], "Operations": [{"op": "add", "path": "title", "value": "x"}]}, "invalidSyntax"),
        ({"Operations": [{"op": "add", "path": "title["}]}, "invalidPath"),
        ({"Operations": [{"op": "add", "path": "title"}]}, "invalidValue"),
        ({"Operations": [{"op": "add", "path": 12, "value": "x"}]}, "invalidPath"),
        ({"Operations": [{"op": "replace", "value": "x"}]}, "invalidValue"),
        ({"Operations": [{"op": "replace", "path": "userName.x", "value": "x"}]}, "invalidPath"),
    ],
)
def test_bad_patch_requests(scim, user, body, scim_type):
    assert_scim_error(scim.patch(f"/Users/{user['id']}", body), 400, scim_type)


def test_too_many_operations(scim, user):
    operations = [{"op": "add", "path": "title", "value": str(i)} for i in range(1001)]
    assert_scim_error(scim.patch(f"/Users/{user['id']}", patch_op(*operations)), 400, "tooMany")


def test_a_failing_operation_leaves_the_user_unchanged(scim, user):
    before = scim.get(f"/Users/{user['id']}").json()
    events = AuditEvent.objects.count()
    response = scim.patch(
        f"/Users/{user['id']}",
        patch_op(
            {"op": "replace", "path": "title", "value": "Changed"},
            {"op": "replace", "value": {"active": False}},
            {"op": "replace", "path": "meta", "value": {}},
        ),
    )
    assert_scim_error(response, 400, "mutability")
    assert "Operation 3" in response.json()["detail"]
    assert scim.get(f"/Users/{user['id']}").json() == before
    assert AuditEvent.objects.count() == events


def test_a_failing_membership_operation_leaves_the_group_unchanged(scim, realm):
    group = RealmGroupFactory(realm=realm, display_name="Team")
    member = RealmGroupMembershipFactory(group=group).user
    newcomer = RealmUserFactory(realm=realm)
    response = scim.patch(
        f"/Groups/{group.pk}",
        patch_op(
            {"op": "replace", "value": {"displayName": "Renamed"}},
            {"op": "remove", "path": f'members[value eq "{member.pk}"]'},
            {"op": "add", "path": "members", "value": [{"value": str(newcomer.pk)}]},
            {"op": "add", "path": "members", "value": [{"value": "00000000-0000-0000-0000-000000000000"}]},
        ),
    )
    assert_scim_error(response, 400, "invalidValue")
    group.refresh_from_db()
    assert group.display_name == "Team"
    assert list(RealmGroupMembership.objects.filter(group=group).values_list("user_id", flat=True)) == [member.pk]


def test_add_then_remove_in_one_request_cancels_out(scim, realm):
    group = RealmGroupFactory(realm=realm)
    u = RealmUserFactory(realm=realm)
    scim.patch(
        f"/Groups/{group.pk}",
        patch_op(
            {"op": "add", "path": "members", "value": [{"value": str(u.pk)}]},
            {"op": "remove", "path": f'members[value eq "{u.pk}"]'},
        ),
    )
    assert not RealmGroupMembership.objects.filter(group=group).exists()


def test_removing_a_non_member_is_not_an_error(scim, realm):
    group = RealmGroupFactory(realm=realm)
    u = RealmUserFactory(realm=realm)
    response = scim.patch(f"/Groups/{group.pk}", patch_op({"op": "remove", "path": f'members[value eq "{u.pk}"]'}))
    assert response.status_code == 204
    assert not AuditEvent.objects.filter(resource_id=str(group.pk)).exists()


def test_several_members_removed_in_one_filter(scim, realm):
    group = RealmGroupFactory(realm=realm)
    users = [RealmGroupMembershipFactory(group=group).user for _ in range(3)]
    response = scim.patch(
        f"/Groups/{group.pk}",
        patch_op({"op": "remove", "path": f'members[value eq "{users[0].pk}" or value eq "{users[1].pk}"]'}),
    )
    assert response.status_code == 204
    assert list(RealmGroupMembership.objects.filter(group=group).values_list("user_id", flat=True)) == [users[2].pk]


def test_remove_all_members(scim, realm):
    group = RealmGroupFactory(realm=realm)
    for _ in range(3):
        RealmGroupMembershipFactory(group=group)
    assert scim.patch(f"/Groups/{group.pk}", patch_op({"op": "remove", "path": "members"})).status_code == 204
    assert not RealmGroupMembership.objects.filter(group=group).exists()


def test_group_patch_response_can_include_members_on_request(scim, realm):
    group = RealmGroupFactory(realm=realm)
    u = RealmUserFactory(realm=realm)
    response = scim.patch(
        f"/Groups/{group.pk}?attributes=members,displayName",
        patch_op({"op": "add", "path": "members", "value": [{"value": str(u.pk)}]}),
    )
    assert [m["value"] for m in response.json()["members"]] == [str(u.pk)]


def test_password_is_never_stored_through_patch(scim, user):
    body = patched(
        scim,
        user,
        {"op": "replace", "path": "password", "value": "s3cret!"},
        {"op": "replace", "value": {"password": "x"}},
    )
    assert "password" not in body
    assert "s3cret" not in str(RealmUser.objects.get(pk=user["id"]).attributes)


def test_group_patch_answers_204_unless_the_client_asks_for_attributes(scim, realm):
    """RFC 7644 §3.5.2: a 200 carries the entire resource (subject to attributes/excludedAttributes), or the server
    answers 204. A group's entire resource holds every member, so without an explicit ask the answer is a 204 and a
    membership change costs time in proportion to the change, not to the group."""
    group = RealmGroupFactory(realm=realm, display_name="Eng", external_id="okta-eng")
    kept = RealmGroupMembershipFactory(group=group).user
    added = RealmUserFactory(realm=realm)

    response = scim.patch(
        f"/Groups/{group.pk}", patch_op({"op": "add", "path": "members", "value": [{"value": str(added.pk)}]})
    )
    assert response.status_code == 204, response.content
    assert response.content == b""
    group.refresh_from_db()
    assert response["ETag"] == f'W/"{group.version}"'

    def patched(query: str) -> dict:
        response = scim.patch(
            f"/Groups/{group.pk}?{query}", patch_op({"op": "replace", "path": "displayName", "value": "Eng"})
        )
        assert response.status_code == 200, response.content
        return response.json()

    everyone = sorted([str(kept.pk), str(added.pk)])
    # Whatever is not excluded is there, members included: the entire resource, subject to excludedAttributes.
    body = patched("excludedAttributes=externalId")
    assert "externalId" not in body and sorted(m["value"] for m in body["members"]) == everyone
    body = patched("excludedAttributes=members")
    assert "members" not in body and body["externalId"] == "okta-eng" and body["meta"]["resourceType"] == "Group"
    body = patched("attributes=displayName")
    assert set(body) == {"schemas", "id", "displayName"}
    body = patched("attributes=members")
    assert sorted(m["value"] for m in body["members"]) == everyone


@pytest.mark.parametrize(
    ("value_filter", "expected"),
    [
        ("level gt 1.5", ["2.0", "7"]),
        ("level le 2e0", ["1", "2.0"]),
        ("level lt 7", ["1", "2.0"]),
        ("level eq 2.00", ["2.0"]),
    ],
)
def test_a_value_filter_orders_numbers_with_a_fraction_or_an_exponent(value_filter, expected):
    """`x[n gt 1.5]` compares numbers whatever their JSON form: a filter's 1.5 or 2e0 (decoded exactly, as a
    Decimal) against an element's 2.0 or 7. Before, any number with a fraction or exponent in the filter never
    matched an ordering comparison."""
    from scim.filters import parse_filter
    from scim.patch import matches

    elements = [{"name": "1", "level": 1}, {"name": "2.0", "level": 2.0}, {"name": "7", "level": 7}]
    expr = parse_filter(value_filter)
    assert [e["name"] for e in elements if matches(expr, e)] == expected
