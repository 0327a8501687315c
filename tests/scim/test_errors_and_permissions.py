"""Authentication, permissions, realm isolation and RFC 7644 §3.12 error bodies."""

import pytest

from realms.models import RealmGroup, RealmUser
from realms.services import accounts as account_services

from ..factories import RealmFactory, RealmGroupFactory, RealmUserFactory
from .conftest import SCIMClient, assert_scim_error, okta_user, patch_op


def test_no_token_is_401_with_www_authenticate(scim):
    response = scim.get("/Users", token=None)
    body = assert_scim_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Bearer" in body["detail"]


@pytest.mark.parametrize("token", ["nonsense", "zrlm_" + "a" * 38])
def test_bad_tokens_are_401(scim, token):
    response = scim.get("/Users", token=token)
    assert_scim_error(response, 401)
    assert "WWW-Authenticate" in response


def test_revoked_token_is_401_at_once(scim, realm):
    account_services.revoke_token(account_services.authenticate_token(scim.token))
    assert_scim_error(scim.get("/Users"), 401)


@pytest.mark.parametrize(
    "method, path, needed",
    [
        ("GET", "/Users", "view_realmuser"),
        ("POST", "/Users", "add_realmuser"),
        ("POST", "/Users/.search", "view_realmuser"),
        ("GET", "/Groups", "view_realmgroup"),
        ("POST", "/Groups", "add_realmgroup"),
        ("POST", "/Groups/.search", "view_realmgroup"),
    ],
)
def test_each_verb_needs_its_permission(make_scim, realm, method, path, needed):
    others = [
        f"realms.{a}_{m}"
        for a in ("add", "change", "delete", "view")
        for m in ("realmuser", "realmgroup")
        if f"{a}_{m}" != needed
    ]
    without = make_scim(realm, permissions=others)
    body = assert_scim_error(without.request(method, path, {}), 403)
    assert needed in body["detail"]
    with_it = make_scim(realm, permissions=[f"realms.{needed}"])
    assert with_it.request(method, path, {"displayName": "x", "userName": "x@example.com"}).status_code in (200, 201)


@pytest.mark.parametrize(
    "method, needed", [("GET", "view"), ("PUT", "change"), ("PATCH", "change"), ("DELETE", "delete")]
)
def test_detail_verbs_need_their_permission(make_scim, realm, method, needed):
    user = RealmUserFactory(realm=realm)
    group = RealmGroupFactory(realm=realm)
    for path, model in ((f"/Users/{user.pk}", "realmuser"), (f"/Groups/{group.pk}", "realmgroup")):
        everything_else = [
            f"realms.{a}_{m}"
            for a in ("add", "change", "delete", "view")
            for m in ("realmuser", "realmgroup")
            if (a, m) != (needed, model)
        ]
        assert_scim_error(make_scim(realm, permissions=everything_else).request(method, path, {}), 403)
    assert RealmUser.objects.filter(pk=user.pk).exists() and RealmGroup.objects.filter(pk=group.pk).exists()


def test_discovery_needs_any_one_of_the_eight(make_scim, realm):
    assert_scim_error(make_scim(realm, permissions=[]).get("/ServiceProviderConfig"), 403)
    assert make_scim(realm, permissions=["realms.view_realmgroup"]).get("/ServiceProviderConfig").status_code == 200


def test_unknown_realm_and_disabled_scim_are_404(make_scim, realm):
    disabled = RealmFactory(scim_enabled=False)
    assert_scim_error(make_scim(disabled).get("/Users"), 404)
    missing = RealmFactory()
    client = make_scim(missing)
    missing.delete()
    assert_scim_error(client.get("/Users"), 404)


def test_an_id_of_another_realm_is_404_for_every_verb(make_scim, realm):
    other = RealmFactory()
    user = RealmUserFactory(realm=other)
    group = RealmGroupFactory(realm=other)
    scim = make_scim(realm)
    for path in (f"/Users/{user.pk}", f"/Groups/{group.pk}"):
        assert_scim_error(scim.get(path), 404)
        assert_scim_error(scim.put(path, {"userName": "x", "displayName": "x"}), 404)
        assert_scim_error(scim.patch(path, patch_op({"op": "replace", "value": {"active": False}})), 404)
        assert_scim_error(scim.delete(path), 404)
    assert RealmUser.objects.filter(pk=user.pk, active=True).exists()
    assert RealmGroup.objects.filter(pk=group.pk).exists()
    assert make_scim(realm).get("/Users").json()["totalResults"] == 0


def test_malformed_ids_are_404(scim):
    assert_scim_error(scim.get("/Users/not-a-uuid"), 404)
    assert_scim_error(scim.get("/Groups/12345"), 404)


@pytest.mark.parametrize(
    "raw, scim_type",
    [
        ("{not json", "invalidSyntax"),
        ("", "invalidSyntax"),
        ("[1, 2]", "invalidSyntax"),
        ('{"userName": NaN}', "invalidSyntax"),
        ("[" * 100000 + "]" * 100000, "invalidSyntax"),
        ('{"userName": 12}', None),
        ('{"userName": ""}', "invalidValue"),
        ('{"name": "Jane"}', "invalidValue"),
        ('{"userName": "a@example.com", "emails": "a@example.com"}', "invalidValue"),
        ('{"userName": "a@example.com", "active": "yes"}', "invalidValue"),
    ],
)
def test_bad_bodies_are_400_with_a_scim_body(scim, raw, scim_type):
    response = scim.post("/Users", raw=raw)
    if scim_type is None:  # a number where a string is expected is coerced, not refused
        assert response.status_code == 201
        return
    assert_scim_error(response, 400, scim_type)
    assert RealmUser.objects.count() == 0


def test_unsupported_media_type_is_415(scim):
    response = scim.post("/Users", raw="userName=x", content_type="application/x-www-form-urlencoded")
    assert_scim_error(response, 415)


def test_wrong_method_is_405_and_unknown_path_404(scim):
    assert_scim_error(scim.delete("/Users"), 405)
    assert_scim_error(scim.get("/Nope"), 404)
    assert_scim_error(scim.get(""), 404)
    assert_scim_error(scim.post("/Bulk", {"Operations": []}), 501)


def test_body_too_large_is_413(scim, settings):
    settings.SCIM = {"MAX_BODY_BYTES": 1000}
    assert_scim_error(scim.post("/Users", okta_user("x@example.com") | {"title": "x" * 2000}), 413)


def test_invalid_paging_values(scim, realm):
    for _ in range(3):
        RealmUserFactory(realm=realm)
    assert_scim_error(scim.get("/Users?startIndex=abc"), 400, "invalidValue")
    assert_scim_error(scim.get("/Users?count=1.5"), 400, "invalidValue")
    body = scim.get("/Users?startIndex=-4&count=-1").json()
    assert body["startIndex"] == 1 and body["itemsPerPage"] == 0 and body["totalResults"] == 3
    body = scim.get("/Users?startIndex=3&count=10").json()
    assert body["itemsPerPage"] == 1
    body = scim.get("/Users?startIndex=10&count=10").json()
    assert body["itemsPerPage"] == 0 and body["Resources"] == []


def test_count_is_capped_at_the_maximum(scim, realm, settings):
    settings.SCIM = {"MAX_COUNT": 2}
    for _ in range(3):
        RealmUserFactory(realm=realm)
    body = scim.get("/Users?count=1000").json()
    assert body["itemsPerPage"] == 2 and body["totalResults"] == 3


@pytest.mark.parametrize(
    "filter_text",
    ["userName eq", 'userName xx "a"', '(userName eq "a"', 'userName eq "a" and', "active gt true", "password pr"],
)
def test_invalid_filters_are_400_invalid_filter(scim, filter_text):
    assert_scim_error(scim.get(f"/Users?filter={filter_text}"), 400, "invalidFilter")


def test_write_errors_leave_nothing_behind(scim, realm):
    user = scim.post("/Users", okta_user("a@example.com")).json()
    response = scim.patch(
        f"/Users/{user['id']}",
        patch_op(
            {"op": "replace", "path": "displayName", "value": "Changed"},
            {"op": "replace", "path": "userName", "value": ""},
        ),
    )
    assert_scim_error(response, 400)
    assert scim.get(f"/Users/{user['id']}").json()["displayName"] == "Jane Doe"


def test_scim_client_fixture_sanity(client, realm):
    # A client with a token of an account without groups: authenticated (not 401) but forbidden.
    from ..factories import ServiceAccountFactory

    token = account_services.issue_token(ServiceAccountFactory(), name="t").secret
    assert_scim_error(SCIMClient(client, realm, token).get("/Users"), 403)


@pytest.mark.parametrize(("first", "second"), [("Émile@example.com", "émile@example.com"), ("ÅSA", "åsa")])
def test_non_ascii_letters_fold_case_alike_on_both_databases(scim, first, second):
    """userName is unique case-insensitively (RFC 7643 §4.1.1) for every letter, on SQLite as on PostgreSQL."""
    assert scim.post("/Users", okta_user(first)).status_code == 201
    conflict = scim.post("/Users", okta_user(second))
    assert conflict.status_code == 409 and conflict.json()["scimType"] == "uniqueness"
    found = scim.get(f'/Users?filter=userName eq "{second.upper()}"')
    assert found.json()["totalResults"] == 1 and found.json()["Resources"][0]["userName"] == first
