"""POST /.search at the SCIM root (RFC 7644 §3.4.3): one query across Users and Groups, with the filters, paging and
attribute selection of /Users/.search and /Groups/.search."""

import pytest

from ..factories import RealmFactory, RealmGroupFactory, RealmGroupMembershipFactory, RealmUserFactory
from .conftest import assert_scim_error, okta_user

SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.fixture
def world(scim, realm):
    """Three users and two groups (one holding two of the users); and, in another realm, one of each."""
    alice = scim.post("/Users", okta_user("alice@example.com", external_id="shared")).json()
    bob = scim.post("/Users", okta_user("bob@example.com")).json()
    carol = scim.post("/Users", {**okta_user("carol@example.com"), "displayName": "Engineering"}).json()
    eng = scim.post(
        "/Groups", {"displayName": "Engineering", "members": [{"value": alice["id"]}, {"value": bob["id"]}]}
    ).json()
    sales = scim.post("/Groups", {"displayName": "Sales", "externalId": "shared"}).json()
    other = RealmFactory()
    RealmGroupMembershipFactory(group=RealmGroupFactory(realm=other, display_name="Engineering"))
    return {"alice": alice, "bob": bob, "carol": carol, "eng": eng, "sales": sales}


def search(scim, status=200, **request):
    response = scim.post("/.search", {"schemas": [SEARCH_REQUEST], **request})
    assert response.status_code == status, response.content
    return response.json()


def ids(body) -> list[str]:
    return [r["id"] for r in body["Resources"]]


def default_order(scim) -> list[str]:
    """What /Users then /Groups list, each in its default order."""
    return ids(scim.get("/Users").json()) + ids(scim.get("/Groups").json())


def test_users_then_groups_in_the_order_of_their_own_endpoints(scim, world):
    body = search(scim)
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert body["totalResults"] == 5 and body["startIndex"] == 1 and body["itemsPerPage"] == 5
    assert ids(body) == default_order(scim)
    assert [r["meta"]["resourceType"] for r in body["Resources"]] == ["User"] * 3 + ["Group"] * 2
    eng = next(r for r in body["Resources"] if r["id"] == world["eng"]["id"])
    assert sorted(m["value"] for m in eng["members"]) == sorted([world["alice"]["id"], world["bob"]["id"]])
    assert scim.post("/.search/", {}).json()["totalResults"] == 5  # with or without a trailing slash


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_pages_walk_the_concatenation_once_with_the_right_total(scim, world, count):
    everything = default_order(scim)
    seen = []
    for start in range(1, 7, count):
        body = search(scim, startIndex=start, count=count)
        assert body["totalResults"] == 5 and body["startIndex"] == start
        assert body["itemsPerPage"] == len(body["Resources"]) <= count
        seen += ids(body)
    assert seen == everything
    assert search(scim, startIndex=9, count=10)["Resources"] == []
    assert search(scim, startIndex=9, count=10)["totalResults"] == 5
    assert search(scim, count=0) == {**search(scim, count=0), "totalResults": 5, "Resources": [], "itemsPerPage": 0}


def test_a_filter_on_attributes_of_one_type_applies_to_that_type(scim, world):
    w = {name: resource["id"] for name, resource in world.items()}
    assert ids(search(scim, filter='userName sw "a"')) == [w["alice"]]
    assert ids(search(scim, filter=f'members.value eq "{w["alice"]}"')) == [w["eng"]]
    assert ids(search(scim, filter='emails[type eq "work" and value co "bob"]')) == [w["bob"]]
    assert ids(search(scim, filter=f'{ENTERPRISE}:department pr or displayName eq "Sales"')) == [w["sales"]]
    # Attributes both types have apply to both.
    assert set(ids(search(scim, filter='displayName eq "engineering"'))) == {w["carol"], w["eng"]}
    assert set(ids(search(scim, filter='externalId eq "shared"'))) == {w["alice"], w["sales"]}
    assert ids(search(scim, filter='meta.resourceType eq "Group"')) == [w["eng"], w["sales"]]
    # An attribute a type lacks compares as absent, as everywhere else: `not (…eq…)` and `ne` find that type.
    body = search(scim, filter='not (userName eq "alice@example.com")')
    assert body["totalResults"] == 4 and w["alice"] not in ids(body)
    assert set(ids(search(scim, filter='members pr or userName eq "bob@example.com"'))) == {w["bob"], w["eng"]}
    # Attributes no type defines are looked up in both, as /Users and /Groups do.
    assert search(scim, filter='costCenter eq "x"')["totalResults"] == 0


def test_a_filter_matching_one_type_pages_and_counts_only_it(scim, world):
    body = search(scim, filter='userName co "@example.com"', startIndex=2, count=1)
    assert body["totalResults"] == 3 and ids(body) == [ids(scim.get("/Users").json())[1]]


def test_sorting_applies_within_each_type(scim, world):
    body = search(scim, sortBy="userName", sortOrder="descending")
    users = ["carol@example.com", "bob@example.com", "alice@example.com"]
    assert [r.get("userName") for r in body["Resources"][:3]] == users
    assert ids(body)[3:] == ids(scim.get("/Groups").json())  # groups have no userName: their default order
    body = search(scim, sortBy="displayName")
    assert [r["displayName"] for r in body["Resources"][3:]] == ["Engineering", "Sales"]


def test_attribute_selection(scim, world):
    body = search(scim, attributes=["displayName"])
    assert all(set(r) <= {"schemas", "id", "displayName"} for r in body["Resources"])
    assert {r.get("displayName") for r in body["Resources"]} >= {"Engineering", "Sales"}
    body = search(scim, excludedAttributes=["members", "emails"])
    assert all("members" not in r and "emails" not in r for r in body["Resources"])
    assert body["Resources"][0]["userName"]


def test_errors_are_those_of_the_type_endpoints(scim, world):
    assert_scim_error(scim.post("/.search", {"filter": "userName eq"}), 400, "invalidFilter")
    assert_scim_error(scim.post("/.search", {"filter": 'userName eq "\\u0000"'}), 400, "invalidFilter")
    assert_scim_error(scim.post("/.search", {"count": "many"}), 400, "invalidValue")
    assert_scim_error(scim.post("/.search", {"sortOrder": "sideways"}), 400, "invalidValue")
    assert_scim_error(scim.post("/.search", ["not", "an", "object"]), 400, "invalidSyntax")
    response = scim.get("/.search")
    assert_scim_error(response, 405)
    assert "POST" in response["Allow"] and "GET" not in response["Allow"]


def test_a_token_searches_the_types_it_may_view(make_scim, realm, world):
    """Each type is searched when the token may view it, so the root search shows nothing /Users and /Groups would
    not; a token that may view neither is refused."""
    users_only = make_scim(realm, permissions=["realms.view_realmuser"])
    body = users_only.post("/.search", {}).json()
    assert body["totalResults"] == 3 and {r["meta"]["resourceType"] for r in body["Resources"]} == {"User"}
    groups_only = make_scim(realm, permissions=["realms.view_realmgroup", "realms.add_realmuser"])
    assert groups_only.post("/.search", {"filter": 'displayName eq "Sales"'}).json()["totalResults"] == 1
    writer = make_scim(realm, permissions=["realms.add_realmuser", "realms.change_realmgroup"])
    body = assert_scim_error(writer.post("/.search", {}), 403)
    assert "realms.view_realmuser" in body["detail"]
    assert_scim_error(make_scim(realm, permissions=[]).post("/.search", {}), 403)
    assert_scim_error(make_scim(realm).post("/.search", {}, token=None), 401)


def test_no_resource_of_another_realm(make_scim, world):
    other = RealmFactory()
    RealmUserFactory(realm=other)
    scim = make_scim(other)
    assert scim.post("/.search", {}).json()["totalResults"] == 1
