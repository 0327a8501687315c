"""Discovery documents, ETags, attribute selection, sorting, .search, and the audit trail."""

import json

import pytest

from realms.models import AuditEvent, RealmUser

from ..factories import RealmGroupMembershipFactory, RealmUserFactory
from .conftest import assert_scim_error, okta_user, patch_op


def test_service_provider_config_advertises_only_what_works(scim, realm):
    config = scim.get("/ServiceProviderConfig").json()
    assert config["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    assert config["meta"]["location"].endswith("/ServiceProviderConfig")
    user = scim.post("/Users", okta_user("a@example.com")).json()
    RealmUserFactory(realm=realm, username="b@example.com")
    # Each advertised feature is exercised; a feature advertised without a handler fails here.
    if config["patch"]["supported"]:
        assert (
            scim.patch(f"/Users/{user['id']}", patch_op({"op": "add", "path": "title", "value": "x"})).status_code
            == 200
        )
    if config["filter"]["supported"]:
        body = scim.get('/Users?filter=userName eq "a@example.com"').json()
        assert body["totalResults"] == 1
        assert config["filter"]["maxResults"] >= 100
    if config["sort"]["supported"]:
        names = [r["userName"] for r in scim.get("/Users?sortBy=userName&sortOrder=descending").json()["Resources"]]
        assert names == ["b@example.com", "a@example.com"]
    if config["etag"]["supported"]:
        etag = scim.get(f"/Users/{user['id']}")["ETag"]
        assert scim.get(f"/Users/{user['id']}", headers={"If-None-Match": etag}).status_code == 304
    if config["bulk"]["supported"]:
        assert (
            scim.post(
                "/Bulk", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": []}
            ).status_code
            == 200
        )
    else:
        assert config["bulk"]["maxOperations"] == 0
        assert_scim_error(scim.post("/Bulk", {}), 501)
    if config["changePassword"]["supported"]:
        pytest.fail("passwords are never stored; changePassword must not be advertised")


def test_resource_types(scim):
    body = scim.get("/ResourceTypes").json()
    assert body["totalResults"] == 2
    by_id = {r["id"]: r for r in body["Resources"]}
    assert by_id["User"]["endpoint"] == "/Users"
    assert by_id["User"]["schemaExtensions"] == [
        {"schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": False}
    ]
    assert by_id["Group"]["schema"] == "urn:ietf:params:scim:schemas:core:2.0:Group"
    assert scim.get("/ResourceTypes/User").json()["name"] == "User"
    assert_scim_error(scim.get("/ResourceTypes/Device"), 404)


def test_schemas(scim):
    body = scim.get("/Schemas").json()
    ids = {s["id"] for s in body["Resources"]}
    assert ids == {
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    }
    user = scim.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").json()
    attributes = {a["name"]: a for a in user["attributes"]}
    assert attributes["userName"]["uniqueness"] == "server" and attributes["userName"]["required"] is True
    assert attributes["password"]["returned"] == "never"
    assert_scim_error(scim.get("/Schemas/urn:nope"), 404)
    assert_scim_error(scim.get('/Schemas?filter=id eq "x"'), 403)


def test_etags_and_preconditions(scim):
    user = scim.post("/Users", okta_user("a@example.com")).json()
    path = f"/Users/{user['id']}"
    etag = scim.get(path)["ETag"]
    assert etag == user["meta"]["version"] and etag.startswith('W/"')
    assert scim.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert scim.get(path, headers={"If-None-Match": 'W/"999"'}).status_code == 200
    assert_scim_error(scim.put(path, okta_user("a@example.com"), headers={"If-Match": 'W/"999"'}), 412)
    assert_scim_error(
        scim.patch(path, patch_op({"op": "add", "path": "title", "value": "x"}), headers={"If-Match": 'W/"999"'}), 412
    )
    assert_scim_error(scim.delete(path, headers={"If-Match": 'W/"999"'}), 412)
    response = scim.patch(path, patch_op({"op": "add", "path": "title", "value": "x"}), headers={"If-Match": etag})
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert scim.get(path, headers={"If-None-Match": etag}).status_code == 200
    assert scim.delete(path, headers={"If-Match": response["ETag"]}).status_code == 204


def test_an_unchanged_put_does_not_move_the_version(scim):
    user = scim.post("/Users", okta_user("a@example.com")).json()
    again = scim.put(f"/Users/{user['id']}", scim.get(f"/Users/{user['id']}").json()).json()
    assert again["meta"]["version"] == user["meta"]["version"]
    assert AuditEvent.objects.filter(resource_id=user["id"]).count() == 1


def test_membership_change_moves_the_users_version(scim, realm):
    user = scim.post("/Users", okta_user("a@example.com")).json()
    group = scim.post("/Groups", {"displayName": "G"}).json()
    scim.patch(f"/Groups/{group['id']}", patch_op({"op": "add", "path": "members", "value": [{"value": user["id"]}]}))
    assert scim.get(f"/Users/{user['id']}", headers={"If-None-Match": user["meta"]["version"]}).status_code == 200


def test_attributes_and_excluded_attributes(scim):
    user = scim.post("/Users", okta_user("a@example.com")).json()
    body = scim.get(f"/Users/{user['id']}?attributes=userName,name.familyName,emails.value").json()
    assert body == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": user["id"],
        "userName": "a@example.com",
        "name": {"familyName": "Doe"},
        "emails": [{"value": "a@example.com"}],
    }
    body = scim.get(f"/Users/{user['id']}?excludedAttributes=emails,meta,id").json()
    assert "emails" not in body and "meta" not in body and body["id"] == user["id"]
    listed = scim.get("/Users?attributes=userName").json()["Resources"][0]
    assert set(listed) == {"schemas", "id", "userName"}


def test_group_list_without_members_runs_no_membership_query(scim, realm, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    group = RealmGroupMembershipFactory(group__realm=realm).group
    with CaptureQueriesContext(connection) as queries:
        body = scim.get("/Groups?excludedAttributes=members").json()
    assert body["Resources"][0]["id"] == str(group.pk) and "members" not in body["Resources"][0]
    assert not any("realmgroupmembership" in q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize("resource", ["Users", "Groups"])
def test_post_search(scim, realm, resource):
    scim.post("/Users", okta_user("a@example.com"))
    scim.post("/Users", okta_user("b@example.com"))
    scim.post("/Groups", {"displayName": "G1"})
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": 'userName sw "a"' if resource == "Users" else 'displayName eq "G1"',
        "attributes": ["id"],
        "startIndex": 1,
        "count": 10,
    }
    response = scim.post(f"/{resource}/.search", body)
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["totalResults"] == 1
    assert set(result["Resources"][0]) == {"schemas", "id"}


def test_audit_events_record_each_write_with_its_changes(scim, realm):
    user = scim.post("/Users", okta_user("a@example.com")).json()
    scim.patch(f"/Users/{user['id']}", patch_op({"op": "replace", "path": "title", "value": "CTO"}))
    scim.get(f"/Users/{user['id']}")  # reads are not recorded
    scim.get("/Users")
    scim.delete(f"/Users/{user['id']}")
    events = list(AuditEvent.objects.filter(resource_id=user["id"]).order_by("id"))
    assert [e.action for e in events] == ["user.created", "user.updated", "user.deleted"]
    assert all(e.realm_id == realm.pk and e.actor_username.startswith("svc") and e.token_hint for e in events)
    assert events[1].changes == {"title": {"old": None, "new": "CTO"}}
    assert events[0].changes["userName"] == {"old": None, "new": "a@example.com"}
    dumped = json.dumps([e.changes for e in events])
    assert "password" not in dumped and scim.token not in dumped
    assert not RealmUser.objects.filter(pk=user["id"]).exists()


DISCOVERY_PATHS = [
    "/ServiceProviderConfig",
    "/ServiceProviderConfig/",
    "/ServiceProviderConfigs",
    "/ResourceTypes",
    "/ResourceTypes/User",
    "/Schemas",
    "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
]


@pytest.mark.parametrize("path", DISCOVERY_PATHS)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("body", [None, {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}])
def test_discovery_endpoints_answer_wrong_methods_with_405_and_allow(scim, method, path, body):
    """RFC 7644 §4: discovery endpoints are read-only. A write is a 405 with Allow (RFC 7231 §6.5.5), body or not,
    as on every other SCIM resource; never a 400 about the body."""
    response = scim.request(method, path, body)
    error = assert_scim_error(response, 405)
    assert method in error["detail"]
    assert [m.strip() for m in response["Allow"].split(",")] == ["GET", "HEAD", "OPTIONS"]


@pytest.mark.parametrize(("method", "path"), [("PUT", "/Users"), ("PATCH", "/Groups"), ("POST", "/Users/{id}")])
def test_wrong_methods_on_resources_are_405_without_a_body_too(scim, method, path):
    user = scim.post("/Users", okta_user("a@example.com")).json()
    response = scim.request(method, path.format(id=user["id"]))
    assert_scim_error(response, 405)
    assert method not in response["Allow"]
