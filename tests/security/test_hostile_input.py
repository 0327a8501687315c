"""Hostile input over every SCIM endpoint and verb (property-based, hypothesis).

Whatever arrives, the answer is never a 5xx; every 4xx carries a SCIM error body (RFC 7644 §3.12); and a rejected
request changes nothing.
"""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realms.models import AuditEvent, RealmGroup, RealmGroupMembership, RealmUser

from ..factories import RealmFactory, RealmGroupMembershipFactory
from ..scim.conftest import SCIMClient, patch_op, scim_token

ATTRIBUTE_NAMES = [
    "userName",
    "username",
    "USERNAME",
    "name",
    "givenName",
    "familyName",
    "emails",
    "value",
    "type",
    "primary",
    "active",
    "displayName",
    "externalId",
    "id",
    "meta",
    "groups",
    "members",
    "password",
    "schemas",
    "Operations",
    "op",
    "path",
    "phoneNumbers",
    "addresses",
    "title",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "manager",
    "$ref",
    "filter",
    "startIndex",
    "count",
    "attributes",
    "excludedAttributes",
    "sortBy",
    "sortOrder",
]
ODD_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from(["\x00", "\u202e", "é", "😀"]),
    max_size=40,
)
SURROGATE_JSON = st.sampled_from(['"\\ud800"', '"a\\udfff"', '"\\u0000"'])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    ODD_TEXT,
    st.sampled_from(["true", "False", "", " ", "x" * 5000, "00000000-0000-0000-0000-000000000000"]),
)
keys = st.one_of(st.sampled_from(ATTRIBUTE_NAMES), ODD_TEXT)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)),
    max_leaves=20,
)
ops = st.sampled_from(["add", "remove", "replace", "Add", "REPLACE", "move", "", None, 3])
paths = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "members",
            'members[value eq "x"]',
            'emails[type eq "work"].value',
            "name.givenName",
            "active",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "id",
            "meta.version",
            "groups",
            "emails[",
            "]",
            "a.b.c",
            'members[value eq "00000000-0000-0000-0000-000000000000"]',
            "userName",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "displayName",
            "emails[value pr].primary",
        ]
    ),
    ODD_TEXT,
)
operations = st.fixed_dictionaries({"op": ops}, optional={"path": paths, "value": json_values})
patch_bodies = st.one_of(
    st.fixed_dictionaries(
        {"Operations": st.lists(operations, max_size=5)},
        optional={"schemas": st.sampled_from([["urn:ietf:params:scim:api:messages:2.0:PatchOp"], ["x"], "x"])},
    ),
    json_values,
)
filters = st.one_of(
    ODD_TEXT,
    st.lists(
        st.sampled_from(
            [
                "userName",
                "emails",
                "emails.value",
                "name.familyName",
                "active",
                "meta.lastModified",
                "members",
                "eq",
                "ne",
                "co",
                "sw",
                "ew",
                "gt",
                "ge",
                "lt",
                "le",
                "pr",
                "and",
                "or",
                "not",
                "(",
                ")",
                "[",
                "]",
                '"x"',
                "true",
                "null",
                "12",
                "1e999",
                '"2011-05-13T04:42:34Z"',
                "urn:x:y",
                "title",
                "groups.value",
            ]
        ),
        max_size=12,
    ).map(" ".join),
)
query_values = st.one_of(ODD_TEXT, st.integers(min_value=-(10**20), max_value=10**20).map(str), filters)


def snapshot() -> tuple:
    return (
        RealmUser.objects.count(),
        RealmGroup.objects.count(),
        RealmGroupMembership.objects.count(),
        AuditEvent.objects.count(),
        tuple(RealmUser.objects.order_by("pk").values_list("pk", "version", "username", "active")),
        tuple(RealmGroup.objects.order_by("pk").values_list("pk", "version", "display_name")),
    )


def check(response, before: tuple, path: str = "") -> None:
    # The one 5xx by design: RFC 7644 §3.7 and §3.11 answer 501 for /Bulk and /Me, which are not offered.
    unsupported = path.rstrip("/") in {"/Bulk", "/Me"} and response.status_code == 501
    assert response.status_code < 500 or unsupported, (response.status_code, response.content[:500])
    if response.status_code >= 400:
        body = response.json()
        assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
        assert body["status"] == str(response.status_code)
        assert isinstance(body["detail"], str)
        assert snapshot() == before, "a rejected request changed something"


@pytest.fixture
def world(db, client):
    realm = RealmFactory(scim_enabled=True)
    membership = RealmGroupMembershipFactory(group__realm=realm)
    scim = SCIMClient(client, realm, scim_token())
    return scim, membership.user, membership.group


FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@FUZZ
@given(
    method=st.sampled_from(["POST", "PUT", "PATCH"]), resource=st.sampled_from(["Users", "Groups"]), body=json_values
)
def test_any_json_body_on_any_write(world, method, resource, body):
    scim, user, group = world
    target = {"Users": user, "Groups": group}[resource]
    path = f"/{resource}" if method == "POST" else f"/{resource}/{target.pk}"
    before = snapshot()
    check(scim.request(method, path, body), before)


@FUZZ
@given(resource=st.sampled_from(["Users", "Groups"]), body=patch_bodies)
def test_any_patch(world, resource, body):
    scim, user, group = world
    target = {"Users": user, "Groups": group}[resource]
    before = snapshot()
    check(scim.patch(f"/{resource}/{target.pk}", body), before)


@FUZZ
@given(
    resource=st.sampled_from(["Users", "Groups"]),
    params=st.dictionaries(
        st.sampled_from(
            ["filter", "startIndex", "count", "sortBy", "sortOrder", "attributes", "excludedAttributes", "FILTER", "x"]
        ),
        query_values,
        max_size=4,
    ),
    search=st.booleans(),
)
def test_any_query(world, resource, params, search):
    scim, _, _ = world
    before = snapshot()
    if search:
        response = scim.post(f"/{resource}/.search", params)
    else:
        from urllib.parse import urlencode

        query = urlencode(params)  # NUL characters included: the URL's door refuses them (400, never a 5xx)
        response = scim.get(f"/{resource}?{query}")
    check(response, before)
    assert snapshot() == before  # reads never write


@FUZZ
@given(
    raw=st.one_of(st.binary(max_size=200), SURROGATE_JSON.map(lambda s: f'{{"userName": {s}}}'.encode())),
    content_type=st.sampled_from(
        [
            "application/scim+json",
            "application/json",
            "text/plain",
            "",
            "application/xml",
            "application/scim+json; charset=latin-1",
        ]
    ),
    method=st.sampled_from(["POST", "PUT", "PATCH", "DELETE", "GET"]),
    path=st.sampled_from(["/Users", "/Groups", "/Users/.search", "/Bulk", "/Me", "/Schemas", "/x/y", ""]),
)
def test_any_bytes_any_media_type_any_path(world, raw, content_type, method, path):
    scim, _, _ = world
    before = snapshot()
    check(scim.request(method, path, raw=raw, content_type=content_type), before, path)


@FUZZ
@given(
    resource_id=st.text(alphabet=string.printable, max_size=60).filter(
        lambda s: "/" not in s and "?" not in s and "#" not in s
    ),
    method=st.sampled_from(["GET", "PUT", "PATCH", "DELETE"]),
)
def test_any_resource_id(world, resource_id, method):
    scim, _, _ = world
    before = snapshot()
    from urllib.parse import quote

    check(scim.request(method, f"/Users/{quote(resource_id)}", {"userName": "x"}), before)


@pytest.mark.parametrize(
    "raw",
    [
        '{"userName": "\\ud800"}',
        '{"userName": "a\\u0000b"}',
        '{"userName": "ok@example.com", "title": "\\udfff"}',
        '{"userName": "ok2@example.com", "x": {"y": "\\u0000"}}',
    ],
)
def test_lone_surrogates_and_nul_characters(world, raw):
    scim, _, _ = world
    before = snapshot()
    response = scim.post("/Users", raw=raw)
    check(response, before)
    assert response.status_code == 400 and response.json()["scimType"] == "invalidValue"


# ---------------------------------------------------------------------------------------------------------------
# NUL characters and lone surrogates, whatever the door (RFC 7644 §3.12): a 400 naming the problem, never a 5xx.
# PostgreSQL refuses NUL in text and jsonb; UTF-8 has no surrogates. JSON allows both as escapes ("\u0000",
# "\ud800"), and the string literals of filters and PATCH paths are decoded after the body's own check.

NUL, SURROGATE = "\\u0000", "\\ud800"
ENTERPRISE_DEPARTMENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"


def _filter_url(resource: str, text: str) -> str:
    from urllib.parse import quote

    return f"/{resource}?filter={quote(text)}"


DOORS = [
    # (id, method, path (with {user}/{group}), JSON body, headers, scimType, words the detail must contain)
    ("GET filter", "GET", _filter_url("Users", f'userName eq "{NUL}"'), None, None, "invalidFilter", "NUL"),
    ("GET filter, group", "GET", _filter_url("Groups", f'displayName eq "a{NUL}"'), None, None, "invalidFilter", "NUL"),
    ("GET value filter", "GET", _filter_url("Users", f'emails[value eq "{NUL}"]'), None, None, "invalidFilter", "NUL"),
    ("GET JSON attribute", "GET", _filter_url("Users", f'title co "{NUL}"'), None, None, "invalidFilter", "NUL"),
    (
        "GET extension",
        "GET",
        _filter_url("Users", f'{ENTERPRISE_DEPARTMENT} eq "{NUL}"'),
        None,
        None,
        "invalidFilter",
        "NUL",
    ),
    ("GET surrogate", "GET", _filter_url("Users", f'title eq "{SURROGATE}"'), None, None, "invalidFilter", "surrogate"),
    ("GET raw NUL filter", "GET", "/Users?filter=userName%20eq%20%22%00%22", None, None, "invalidFilter", "NUL"),
    ("search filter", "POST", "/Users/.search", {"filter": f'userName eq "{NUL}"'}, None, "invalidFilter", "NUL"),
    ("search, group", "POST", "/Groups/.search", {"filter": f'externalId eq "{NUL}"'}, None, "invalidFilter", "NUL"),
    (
        "PATCH path",
        "PATCH",
        "/Users/{user}",
        {"Operations": [{"op": "replace", "path": f'emails[type eq "{NUL}"].value', "value": "x@example.com"}]},
        None,
        "invalidPath",
        "NUL",
    ),
    (
        "PATCH member path",
        "PATCH",
        "/Groups/{group}",
        {"Operations": [{"op": "remove", "path": f'members[value eq "{NUL}"]'}]},
        None,
        "invalidPath",
        "NUL",
    ),
    (
        "PATCH surrogate path",
        "PATCH",
        "/Users/{user}",
        {"Operations": [{"op": "remove", "path": f'emails[type eq "{SURROGATE}"]'}]},
        None,
        "invalidPath",
        "surrogate",
    ),
    ("attributes", "GET", "/Users?attributes=userName%00", None, None, "invalidValue", "NUL"),
    ("sortBy", "GET", "/Users?sortBy=title%00", None, None, "invalidValue", "NUL"),
    ("startIndex", "GET", "/Groups?startIndex=%00", None, None, "invalidValue", "NUL"),
    ("parameter name", "GET", "/Users?a%00=1", None, None, "invalidValue", "NUL"),
    ("user id", "GET", "/Users/%00", None, None, "invalidValue", "NUL"),
    ("group id", "DELETE", "/Groups/{group}%00", None, None, "invalidValue", "NUL"),
    ("schema id", "GET", "/Schemas/urn%00", None, None, "invalidValue", "NUL"),
    (
        "If-Match",
        "PATCH",
        "/Users/{user}",
        {"Operations": [{"op": "replace", "path": "title", "value": "x"}]},
        {"If-Match": 'W/"1\x00"'},
        "invalidValue",
        "If-Match",
    ),
    ("If-None-Match", "GET", "/Users/{user}", None, {"If-None-Match": '"\x00"'}, "invalidValue", "If-None-Match"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "scim_type", "words"),
    [door[1:] for door in DOORS],
    ids=[door[0] for door in DOORS],
)
def test_nul_and_lone_surrogates_whatever_the_door(world, method, path, body, headers, scim_type, words):
    scim, user, group = world
    before = snapshot()
    response = scim.request(method, path.format(user=user.pk, group=group.pk), body, headers=headers)
    check(response, before)
    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert response.json()["scimType"] == scim_type, detail
    assert words in detail and "\x00" not in detail
    # Nothing was left broken (on PostgreSQL a failed statement would poison the transaction): the next call works.
    assert scim.get(f"/Users/{user.pk}").status_code == 200


@pytest.mark.parametrize(
    ("resource", "text", "status"),
    [
        # PostgreSQL's numeric stops at 1e131071 (and 1e-16383): "value overflows numeric format" failed the query.
        ("Users", "emails[$ref le 1e9999999]", 400),
        ("Groups", "title gt -1e999999", 400),
        ("Users", "urn:okta:custom:1.0:User:level lt 1e-99999", 400),
        # SQLite compares doubles: an integer beyond one (1e308) failed to convert.
        ("Users", f"urn:okta:custom:1.0:User:level lt {'9' * 400}", 200),
        ("Groups", f"size gt -{'9' * 999}", 200),
    ],
)
def test_numbers_beyond_what_databases_compare(world, resource, text, status):
    scim, user, _ = world
    response = scim.get(_filter_url(resource, text))
    assert response.status_code == status, response.content
    if status == 400:
        assert response.json()["scimType"] == "invalidFilter" and "1e" in response.json()["detail"]
    assert scim.get(f"/Users/{user.pk}").status_code == 200  # the transaction is intact


def test_a_refusal_for_a_nul_in_the_url_is_recorded(world):
    """The request log keeps the refused path, the NUL replaced (PostgreSQL columns cannot hold it)."""
    from scim.models import SCIMRequestError

    scim, _, _ = world
    assert scim.get("/Users/%00").status_code == 400
    row = SCIMRequestError.objects.get()
    assert (row.path, row.status, row.scim_type) == ("/Users/\ufffd", 400, "invalidValue")


# Every JSON escape (RFC 8259 §7), in filter literals and PATCH path literals.
JSON_ESCAPES = ['\\"', "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"]
HEX4 = st.one_of(
    st.sampled_from(["0000", "001F", "0041", "00e9", "2028", "D800", "dbff", "DC00", "dfff", "FFFF"]),
    st.integers(min_value=0, max_value=0xFFFF).map(lambda n: f"{n:04x}"),
)
literal_pieces = st.one_of(
    st.sampled_from(JSON_ESCAPES),
    HEX4.map(lambda digits: "\\u" + digits),
    st.sampled_from(["\\ud83d\\ude00", "\\uD83D\\uDE00"]),  # a surrogate pair: one character, valid
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters='"\\'),
        min_size=1,
        max_size=4,
    ),
)
json_literals = st.lists(literal_pieces, max_size=6).map(lambda pieces: '"' + "".join(pieces) + '"')


def _storable(value: str) -> bool:
    return "\x00" not in value and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)


@FUZZ
@given(
    literal=json_literals,
    door=st.sampled_from(["GET", ".search", "PATCH path"]),
    resource=st.sampled_from(["Users", "Groups"]),
    attr=st.sampled_from(["userName", "displayName", "externalId", "title", "emails.value", ENTERPRISE_DEPARTMENT]),
    op=st.sampled_from(["eq", "ne", "co", "sw", "ew", "gt", "le"]),
)
def test_filter_literals_with_every_json_escape(world, literal, door, resource, attr, op):
    scim, user, group = world
    value = json.loads(literal)
    if resource == "Groups" and attr in ("userName", "title", "emails.value", ENTERPRISE_DEPARTMENT):
        attr = "displayName"
    before = snapshot()
    if door == "PATCH path":
        if resource == "Users":
            operation = {"op": "replace", "path": f"emails[type eq {literal}].value", "value": "x@example.com"}
        else:
            operation = {"op": "remove", "path": f"members[value eq {literal}]"}
        response = scim.patch(f"/{resource}/{user.pk if resource == 'Users' else group.pk}", patch_op(operation))
        refused_as = "invalidPath"
    else:
        text = f"{attr} {op} {literal}"
        if door == "GET":
            response = scim.get(_filter_url(resource, text))
        else:
            response = scim.post(f"/{resource}/.search", {"filter": text})
        refused_as = "invalidFilter"
    if not _storable(value):
        assert response.status_code == 400, response.content
        assert response.json()["scimType"] == refused_as
    elif door != "PATCH path":
        assert response.status_code == 200, response.content  # any other escape is a value like any other
    check(response, before if response.status_code >= 400 else snapshot())


def test_deeply_nested_json_and_huge_numbers(world):
    scim, _, _ = world
    before = snapshot()
    check(scim.post("/Users", raw='{"userName": "x", "a": ' + "[" * 50000 + "]" * 50000 + "}"), before)
    check(scim.post("/Users", raw='{"userName": "y@example.com", "n": 1e999999}'), before)
    check(scim.post("/Users", raw='{"userName": "z@example.com", "n": ' + "9" * 5000 + "}"), before)
    body = json.dumps({"userName": "big@example.com", "x": "y" * 2_000_000})
    check(scim.post("/Users", raw=body), before)
