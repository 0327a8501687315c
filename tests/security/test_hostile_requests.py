"""10,000 generated hostile requests against every SCIM endpoint and verb, on PostgreSQL (issue 13).

PostgreSQL is where hostile values hurt: it refuses what SQLite stores (NUL in text and jsonb, numbers out of
range), and a failed statement poisons the transaction around it. So the requests run on PostgreSQL only, inside
one transaction (the test's), which is stricter than production's autocommit: an error swallowed without a
savepoint would break every later request and show here.

The generator is a seeded `random.Random` (not hypothesis: 10,000 examples with no shrinking needed, at the cost
of a request each): endpoints and ids (real, unknown, malformed, with NUL), every method, query strings (filters
built from the grammar with every JSON escape, then mutated; paging, sorting and attribute parameters), bodies
(resources with hostile values, PATCH operations, SearchRequests, any JSON, invalid JSON, invalid UTF-8, deep
nesting, huge numbers, NUL and lone surrogate escapes) and headers (tokens of every kind, "Bearer Bearer",
content types, If-Match/If-None-Match). Each answer must be below 500 (but the 501 of /Bulk and /Me, RFC 7644
§3.7 and §3.11), every 4xx a SCIM error body (RFC 7644 §3.12), and a refused request must change nothing.

Bounded: every request is bounded in size, and the run stops after SCIM_HOSTILE_BUDGET seconds (600 by default, a
safety net; it takes about a minute and a half on two cores). SCIM_HOSTILE_SEED and SCIM_HOSTILE_REQUESTS replay
or widen a run; a failure prints the seed and the request.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote as url_quote

import pytest
from django.db import DatabaseError, connection

from realms.models import AuditEvent, RealmGroup, RealmGroupMembership, RealmUser
from realms.services import SCIM_PERMISSION_CODENAMES
from realms.tokens import generate_token

from ..factories import RealmFactory, RealmGroupMembershipFactory, RealmUserFactory
from ..scim.conftest import scim_token

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SEED = int(os.environ.get("SCIM_HOSTILE_SEED", "20261129"))
REQUESTS = int(os.environ.get("SCIM_HOSTILE_REQUESTS", "10000"))
BUDGET_SECONDS = float(os.environ.get("SCIM_HOSTILE_BUDGET", "600"))

ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_TYPES = {
    "invalidFilter",
    "tooMany",
    "uniqueness",
    "mutability",
    "invalidSyntax",
    "invalidPath",
    "noTarget",
    "invalidValue",
    "invalidVers",
    "sensitive",
}
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"

# ------------------------------------------------------------------------------------------------ generators


def quote(text: str, safe: str = "") -> str:
    """Percent-encoding as a client would send it: lone surrogates as the bytes UTF-8 would give them (invalid)."""
    return url_quote(text, safe=safe, errors="surrogatepass")


HOSTILE_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfff",
    "\u202e",
    "é",
    "😀",
    "\n",
    "\t\r",
    "'; DROP TABLE realms_realmuser; --",
    "%00",
    "%",
    "_",
    "\\",
    '"',
    "null",
    "true",
    "False",
    "0",
    "-1",
    "1e999",
    "00000000-0000-0000-0000-000000000000",
    "ÉMILE@EXAMPLE.COM",
    "x" * 256,
    "y" * 3000,
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "2011-05-13T04:42:34Z",
    "2011-13-45T99:99:99Z",
]
ATTRIBUTES = [
    "userName",
    "displayName",
    "externalId",
    "id",
    "active",
    "title",
    "userType",
    "nickName",
    "locale",
    "name",
    "name.givenName",
    "name.familyName",
    "name.formatted",
    "emails",
    "emails.value",
    "emails.type",
    "emails.primary",
    "phoneNumbers.value",
    "addresses.locality",
    "groups",
    "groups.value",
    "groups.display",
    "members",
    "members.value",
    "members.display",
    "meta.created",
    "meta.lastModified",
    "meta.resourceType",
    "meta.version",
    "schemas",
    "password",
    "costCenter",
    "x-y_z",
    f"{ENTERPRISE}:department",
    f"{ENTERPRISE}:manager.value",
    f"{ENTERPRISE}:employeeNumber",
    f"{USER_URN}:userName",
    f"{GROUP_URN}:displayName",
    "urn:okta:custom:1.0:User:favoriteColor",
    "$ref",
    "1abc",
    "a..b",
    "é",
]
OPERATORS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ", "Co", "pr", "xx"]
NUMBERS = ["0", "-1", "42", "1.5", "-2.5e3", "1E+5", "01", ".5", "1e", "-0", "0e0", "1e308", "2e-324", "1e999"]
NUMBERS += ["1e-999", "1e999999", "-1e-99999", "9" * 400, "-" + "9" * 1200, "123456789012345678901"]
JSON_ESCAPES = ['\\"', "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"]
HEX4 = ["0000", "001f", "0041", "00e9", "2028", "d800", "dbff", "dc00", "dfff", "ffff", "D83D\\uDE00"]


def json_literal(rnd: random.Random) -> str:
    """A JSON string literal of a filter, with every kind of escape (RFC 8259 §7)."""
    parts = []
    for _ in range(rnd.randint(0, 6)):
        kind = rnd.random()
        if kind < 0.3:
            parts.append(rnd.choice(JSON_ESCAPES))
        elif kind < 0.55:
            parts.append("\\u" + (rnd.choice(HEX4) if rnd.random() < 0.7 else f"{rnd.randrange(0x10000):04x}"))
        elif kind < 0.65:
            parts.append(rnd.choice(["\\", "\\u12", "\\x", "\x00", "\x01", "\ud800"]))  # broken escapes, raw controls
        else:
            parts.append(rnd.choice(["a", "bob@example.com", "Jane", "é", "😀", " ", "work", "User", "%"]))
    return '"' + "".join(parts) + '"'


def comp_value(rnd: random.Random) -> str:
    return rnd.choice(
        [
            json_literal,
            lambda r: r.choice(["true", "false", "null", "TRUE", "Null"]),
            lambda r: r.choice(NUMBERS),
            lambda r: json.dumps(r.choice(["2011-05-13T04:42:34Z", "2011-05-13", "yesterday", str(uuid.uuid4())])),
            lambda r: "'single'",
        ]
    )(rnd)


def attr_expr(rnd: random.Random, depth: int, in_brackets: bool = False) -> str:
    attr = rnd.choice(["type", "value", "primary", "display", "$ref"]) if in_brackets else rnd.choice(ATTRIBUTES)
    if not in_brackets and depth < 2 and rnd.random() < 0.15:
        attr = rnd.choice(["emails", "members", "groups", "phoneNumbers", "title"])
        return f"{attr}[{filter_text(rnd, depth + 1, True)}]"
    op = rnd.choice(OPERATORS)
    return f"{attr} {op}" if op == "pr" else f"{attr} {op} {comp_value(rnd)}"


def filter_text(rnd: random.Random, depth: int = 0, in_brackets: bool = False) -> str:
    roll = rnd.random()
    if depth < 3 and roll < 0.2:
        left, right = filter_text(rnd, depth + 1, in_brackets), filter_text(rnd, depth + 1, in_brackets)
        return f"{left} {rnd.choice(['and', 'or', 'AND', 'Or'])} {right}"
    if depth < 3 and roll < 0.28:
        return f"not ({filter_text(rnd, depth + 1, in_brackets)})"
    if depth < 3 and roll < 0.33:
        return f"({filter_text(rnd, depth + 1, in_brackets)})"
    return attr_expr(rnd, depth, in_brackets)


def mutate(rnd: random.Random, text: str) -> str:
    """Small damage to a well-formed text: a character dropped, doubled or replaced."""
    if not text or rnd.random() < 0.75:
        return text
    i = rnd.randrange(len(text))
    return rnd.choice(
        [
            text[:i] + text[i + 1 :],
            text[:i] + text[i] + text[i:],
            text[:i] + rnd.choice('"()[]\\ \x00.:') + text[i + 1 :],
            text * rnd.randint(2, 3),
            "(" * 40 + text + ")" * 40,
        ]
    )


def hostile_filter(rnd: random.Random) -> str:
    if rnd.random() < 0.1:
        return rnd.choice(HOSTILE_STRINGS)
    return mutate(rnd, filter_text(rnd))


def scalar(rnd: random.Random) -> Any:
    return rnd.choice(
        [
            lambda r: r.choice(HOSTILE_STRINGS),
            lambda r: r.choice([None, True, False, 0, -1, 2**63, -(2**70), 1.5, 1e308, -0.0]),
            lambda r: "".join(r.choice("abc\x00\ud800é😀 ") for _ in range(r.randint(0, 12))),
            lambda r: str(uuid.uuid4()),
        ]
    )(rnd)


def json_value(rnd: random.Random, depth: int = 0) -> Any:
    roll = rnd.random()
    if depth < 3 and roll < 0.15:
        return [json_value(rnd, depth + 1) for _ in range(rnd.randint(0, 4))]
    if depth < 3 and roll < 0.3:
        return {
            rnd.choice([*ATTRIBUTES, *HOSTILE_STRINGS[:12], "value", "type", "primary", "op", "path"]): json_value(
                rnd, depth + 1
            )
            for _ in range(rnd.randint(0, 4))
        }
    return scalar(rnd)


def user_body(rnd: random.Random, world: World) -> dict[str, Any]:
    n = rnd.randrange(10**9)
    body: dict[str, Any] = {
        "schemas": [USER_URN],
        "userName": f"fuzz{n}@example.com",
        "name": {"givenName": "Fuzz", "familyName": str(n)},
        "emails": [{"primary": True, "value": f"fuzz{n}@example.com", "type": "work"}],
        "displayName": "Fuzz",
        "externalId": f"ext{n}",
        "active": True,
        "groups": [],
        "password": "x",
    }
    for _ in range(rnd.choice([0, 0, 0, 1, 2, 4])):
        key = rnd.choice([*body, *ATTRIBUTES[:20], ENTERPRISE, "urn:okta:custom:1.0:User"])
        body[key] = json_value(rnd) if rnd.random() < 0.7 else rnd.choice(HOSTILE_STRINGS)
    if rnd.random() < 0.1 and world.users:
        body["userName"] = rnd.choice(world.usernames)  # a duplicate, in another letter case sometimes
        if rnd.random() < 0.5:
            body["userName"] = body["userName"].upper()
    return body


def group_body(rnd: random.Random, world: World) -> dict[str, Any]:
    members: Any = [{"value": rnd.choice([*world.users, str(uuid.uuid4()), "x"])} for _ in range(rnd.randint(0, 3))]
    body: dict[str, Any] = {"schemas": [GROUP_URN], "displayName": f"Fuzz group {rnd.randrange(10**9)}"}
    if rnd.random() < 0.8:
        body["members"] = members
    for _ in range(rnd.randint(0, 3)):
        key = rnd.choice(["displayName", "members", "externalId", "id", "meta", "x", "urn:x:y:1.0:Group"])
        body[key] = json_value(rnd)
    return body


PATCH_PATHS = [
    "title",
    "active",
    "displayName",
    "userName",
    "name.givenName",
    "name",
    "emails",
    'emails[type eq "work"].value',
    'emails[type eq "home"]',
    "emails[value pr].primary",
    "members",
    'members[value eq "{user}"]',
    'members[value eq "{user}" or value eq "{other}"]',
    'members[display eq "x"]',
    f"{ENTERPRISE}:department",
    f"{ENTERPRISE}:manager",
    ENTERPRISE,
    "urn:okta:custom:1.0:User:color",
    "id",
    "meta.version",
    "groups",
    "schemas",
    "password",
    "emails[",
    "]",
    "a.b.c",
    "",
]


def patch_body(rnd: random.Random, world: World) -> Any:
    if rnd.random() < 0.05:
        return json_value(rnd)
    operations = []
    for _ in range(rnd.randint(1, 4)):
        operation: dict[str, Any] = {"op": rnd.choice(["add", "remove", "replace", "Add", "REPLACE", "move", "", 3])}
        roll = rnd.random()
        if roll < 0.5:
            path = rnd.choice(PATCH_PATHS).format(
                user=rnd.choice([*world.users, str(uuid.uuid4())]), other=str(uuid.uuid4())
            )
            operation["path"] = mutate(rnd, path)
        elif roll < 0.65:
            operation["path"] = f"emails[type eq {json_literal(rnd)}].value"
        elif roll < 0.75:
            operation["path"] = f"members[value eq {json_literal(rnd)}]"
        if rnd.random() < 0.85:
            roll = rnd.random()
            if roll < 0.3:
                operation["value"] = [{"value": rnd.choice([*world.users, str(uuid.uuid4()), "x"])}]
            elif roll < 0.5:
                operation["value"] = {
                    rnd.choice(["active", "displayName", "title", "id", "name.givenName"]): scalar(rnd)
                }
            else:
                operation["value"] = json_value(rnd)
        operations.append(operation)
    body: dict[str, Any] = {"Operations": operations}
    if rnd.random() < 0.9:
        body["schemas"] = rnd.choice([["urn:ietf:params:scim:api:messages:2.0:PatchOp"], ["x"], "x"])
    return body


def search_body(rnd: random.Random) -> dict[str, Any]:
    params = query_params(rnd)
    body: dict[str, Any] = dict(params)
    if rnd.random() < 0.3:
        body["attributes"] = [rnd.choice(ATTRIBUTES) for _ in range(rnd.randint(0, 3))]
    if rnd.random() < 0.2:
        body[rnd.choice(["startIndex", "count"])] = scalar(rnd)
    body["schemas"] = ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]
    return body


def query_params(rnd: random.Random) -> dict[str, str]:
    params: dict[str, str] = {}
    if rnd.random() < 0.6:
        params[rnd.choice(["filter", "filter", "FILTER", "Filter"])] = hostile_filter(rnd)
    if rnd.random() < 0.3:
        params["startIndex"] = rnd.choice(["1", "0", "-5", "101", "99999999999999999999", "x", "1.5", "\x00"])
    if rnd.random() < 0.3:
        params["count"] = rnd.choice(["0", "2", "100", "1001", "-1", "1e3", "", "99999999999999999999"])
    if rnd.random() < 0.2:
        params["sortBy"] = mutate(rnd, rnd.choice(ATTRIBUTES))
        params["sortOrder"] = rnd.choice(["ascending", "descending", "DESCENDING", "sideways", ""])
    if rnd.random() < 0.2:
        params[rnd.choice(["attributes", "excludedAttributes"])] = ",".join(
            mutate(rnd, rnd.choice(ATTRIBUTES)) for _ in range(rnd.randint(0, 4))
        )
    if rnd.random() < 0.05:
        params[rnd.choice(HOSTILE_STRINGS[:10]) or "x"] = rnd.choice(HOSTILE_STRINGS)
    return params


def raw_body(rnd: random.Random) -> bytes:
    return rnd.choice(
        [
            lambda r: bytes(r.randrange(256) for _ in range(r.randint(0, 200))),
            lambda r: b'{"userName": "a' + bytes([0xFF, 0xFE]) + b'"}',
            lambda r: b'{"userName": ',
            lambda r: b"[" * 3000 + b"]" * 3000,
            lambda r: b'{"userName": "x", "n": 1e999999}',
            lambda r: b'{"userName": "x", "n": ' + b"9" * 5000 + b"}",
            lambda r: b'{"userName": NaN}',
            lambda r: b'{"userName": "\\ud800"}',
            lambda r: b'{"userName": "a\\u0000"}',
            lambda r: b"null",
            lambda r: b'"just a string"',
            lambda r: b"",
            lambda r: b" ",
        ]
    )(rnd)


# ------------------------------------------------------------------------------------------------ the world


@dataclass
class World:
    realm: Any
    root: str
    tokens: dict[str, str | None]
    users: list[str] = field(default_factory=list)
    usernames: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    foreign_user: str = ""

    def resource_id(self, rnd: random.Random, kind: str) -> str:
        pool = self.users if kind == "Users" else self.groups
        roll = rnd.random()
        if pool and roll < 0.7:
            return rnd.choice(pool)
        return rnd.choice(
            [
                str(uuid.uuid4()),
                self.foreign_user,
                "not-a-uuid",
                quote("\x00"),
                "%00abc",
                quote(rnd.choice(HOSTILE_STRINGS[:12]) or "x", safe=""),
                "x" * 300,
                ".search",
                "..",
                "%2F",
            ]
        )

    def replenish(self) -> None:
        """Keep a few users and groups to aim at (DELETEs succeed now and then)."""
        while len(self.users) < 3:
            user = RealmUserFactory(realm=self.realm)
            self.users.append(str(user.pk))
            self.usernames.append(user.username)
        while len(self.groups) < 2:
            membership = RealmGroupMembershipFactory(
                group__realm=self.realm, user=RealmUser.objects.get(pk=self.users[0])
            )
            self.groups.append(str(membership.group.pk))


def make_world() -> World:
    realm = RealmFactory(scim_enabled=True)
    other_realm = RealmFactory(scim_enabled=True)
    all_permissions = [f"realms.{c}" for c in SCIM_PERMISSION_CODENAMES]
    full = scim_token()
    tokens: dict[str, str | None] = {
        "full": full,
        "view": scim_token(permissions=["realms.view_realmuser", "realms.view_realmgroup"]),
        "users only": scim_token(permissions=["realms.view_realmuser", "realms.change_realmuser"]),
        "none": scim_token(permissions=[]),
        "unknown": generate_token().secret,
        "malformed": "zrlm_short",
        "missing": None,
    }
    scim_token(permissions=all_permissions)  # another account, unused: tokens are not confused
    world = World(realm=realm, root=f"/api/realms/{realm.pk}/scim/v2", tokens=tokens)
    world.foreign_user = str(RealmUserFactory(realm=other_realm).pk)
    world.replenish()
    return world


# ------------------------------------------------------------------------------------------------ requests


@dataclass
class Request:
    method: str
    path: str
    body: bytes
    content_type: str
    headers: dict[str, str]
    endpoint: str

    def describe(self) -> str:
        headers = {k: v[:60] for k, v in self.headers.items() if k != "HTTP_AUTHORIZATION"}
        return f"{self.method} {self.path[:300]!r} {self.content_type!r} {headers} body={self.body[:300]!r}"


ENDPOINTS = [
    ("Users", 14),
    ("Users/{id}", 16),
    ("Users/.search", 6),
    ("Groups", 8),
    ("Groups/{id}", 14),
    ("Groups/.search", 4),
    (".search", 6),
    ("ServiceProviderConfig", 2),
    ("ServiceProviderConfigs", 1),
    ("ResourceTypes", 2),
    ("ResourceTypes/{type}", 2),
    ("Schemas", 2),
    ("Schemas/{urn}", 2),
    ("Bulk", 1),
    ("Me", 1),
    ("", 1),
    ("unknown/path", 1),
]
METHODS = [("GET", 30), ("POST", 20), ("PUT", 14), ("PATCH", 22), ("DELETE", 8), ("HEAD", 3), ("OPTIONS", 3)]
# What each endpoint serves: most requests use one of these (the others are 405s, a few of which are enough).
SERVED = {
    "Users": ["GET", "POST"],
    "Groups": ["GET", "POST"],
    "Users/{id}": ["GET", "PUT", "PATCH", "PATCH", "DELETE"],
    "Groups/{id}": ["GET", "PUT", "PATCH", "PATCH", "DELETE"],
    "Users/.search": ["POST"],
    "Groups/.search": ["POST"],
    ".search": ["POST"],
    "Bulk": ["POST"],
}


def weighted(rnd: random.Random, choices: list[tuple[str, int]]) -> str:
    return rnd.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def generate(rnd: random.Random, world: World) -> Request:
    endpoint = weighted(rnd, ENDPOINTS)
    served = SERVED.get(endpoint, ["GET"])
    method = rnd.choice(served) if rnd.random() < 0.8 else weighted(rnd, METHODS)
    path = endpoint
    if "{id}" in path:
        path = path.replace("{id}", world.resource_id(rnd, path.split("/")[0]))
    path = path.replace("{type}", rnd.choice(["User", "group", "Device", quote("\x00")]))
    path = path.replace("{urn}", rnd.choice([USER_URN, ENTERPRISE, "urn:x", quote("urn:\x00")]))
    if rnd.random() < 0.3:
        path += "/"
    params = query_params(rnd) if method in ("GET", "HEAD") or rnd.random() < 0.15 else {}
    query = "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items()) if params else ""
    root = world.root if rnd.random() < 0.97 else f"/api/realms/{uuid.uuid4()}/scim/v2"

    body = b""
    if method in ("POST", "PUT", "PATCH") or rnd.random() < 0.05:
        roll = rnd.random()
        if roll < 0.12:
            body = raw_body(rnd)
        else:
            if endpoint.endswith(".search"):
                payload: Any = search_body(rnd)
            elif method == "PATCH":
                payload = patch_body(rnd, world)
            elif endpoint.startswith("Groups"):
                payload = group_body(rnd, world)
            elif endpoint.startswith("Users"):
                payload = user_body(rnd, world)
            else:
                payload = json_value(rnd)
            # ensure_ascii: NUL and lone surrogates travel as the escapes "\u0000" and "\ud800".
            body = json.dumps(payload).encode()
    content_type = weighted(
        rnd,
        [
            ("application/scim+json; charset=utf-8", 70),
            ("application/json", 15),
            ("application/scim+json", 5),
            ("text/plain", 2),
            ("", 2),
            ("application/xml", 1),
            ("multipart/form-data; boundary=x", 1),
            ("application/scim+json; charset=latin-1", 2),
            ("application/x-www-form-urlencoded", 2),
        ],
    )
    token_kind = weighted(
        rnd,
        [("full", 80), ("view", 5), ("users only", 4), ("none", 2), ("unknown", 2), ("malformed", 2), ("missing", 3)],
    )
    headers = {"HTTP_ACCEPT": rnd.choice(["application/scim+json", "application/json", "*/*", "text/html"])}
    token = world.tokens[token_kind]
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = (
            f"Bearer {token}"
            if rnd.random() < 0.9
            else rnd.choice([f"Bearer Bearer {token}", f"bearer {token}", f"Bearer {token} x", "Bearer", token])
        )
    if rnd.random() < 0.1:
        headers[rnd.choice(["HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH"])] = rnd.choice(
            ['W/"1"', '"2"', "*", "W/", "garbage", 'W/"1", W/"2"', 'W/"99999999999999999999"', '"\x00"', ""]
        )
    return Request(method, f"{root}/{path}{query}", body, content_type, headers, endpoint)


# ------------------------------------------------------------------------------------------------ checks


def state() -> tuple:
    """What a refused request must leave as it was: every write is audited and moves a version. One statement (it
    runs before every write of the 10,000)."""
    user, group = RealmUser._meta.db_table, RealmGroup._meta.db_table
    sql = (
        f"SELECT (SELECT COUNT(*) FROM {AuditEvent._meta.db_table}), (SELECT COUNT(*) FROM {user}), "
        f"(SELECT COALESCE(SUM(version), 0) FROM {user}), (SELECT COUNT(*) FROM {group}), "
        f"(SELECT COALESCE(SUM(version), 0) FROM {group}), (SELECT COUNT(*) FROM {RealmGroupMembership._meta.db_table})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return tuple(cursor.fetchone())


def problems_with(request: Request, response) -> list[str]:
    status = response.status_code
    unsupported = request.endpoint in ("Bulk", "Me") and status == 501
    if status >= 500 and not unsupported:
        return [f"a {status}: {response.content[:500]!r}"]
    if status < 400 or request.method == "HEAD":  # a HEAD answer has no body to check
        return []
    problems = []
    if not response.get("Content-Type", "").startswith("application/scim+json"):
        problems.append(f"{status} with Content-Type {response.get('Content-Type')!r}")
    try:
        body = json.loads(response.content)
    except ValueError:
        return [*problems, f"{status} without a JSON body: {response.content[:200]!r}"]
    if not isinstance(body, dict) or body.get("schemas") != [ERROR_URN]:
        problems.append(f"{status} without the SCIM Error schema: {body!r:.300}")
    elif body.get("status") != str(status) or not isinstance(body.get("detail"), str) or not body["detail"]:
        problems.append(f"{status} with a wrong status or detail: {body!r:.300}")
    elif "scimType" in body and body["scimType"] not in SCIM_TYPES:
        problems.append(f"{status} with an unknown scimType: {body['scimType']!r}")
    if status == 405 and "Allow" not in response:
        problems.append("405 without Allow")
    if status == 401 and "WWW-Authenticate" not in response:
        problems.append("401 without WWW-Authenticate")
    return problems


def test_ten_thousand_hostile_requests(client, settings):
    settings.SCIM = {**getattr(settings, "SCIM", {}), "RATE_LIMIT": None}  # every request reaches the views
    rnd = random.Random(SEED)
    world = make_world()
    failures: list[str] = []
    statuses: dict[int, int] = {}
    started = time.monotonic()
    sent = 0
    previous = None
    for sent in range(1, REQUESTS + 1):
        if time.monotonic() - started > BUDGET_SECONDS:
            sent -= 1
            break
        request = generate(rnd, world)
        try:
            before = state() if request.method in ("POST", "PUT", "PATCH", "DELETE") else None
            response = client.generic(
                request.method, request.path, data=request.body, content_type=request.content_type, **request.headers
            )
            after = state() if before is not None and response.status_code >= 400 else before
        except DatabaseError as exc:
            # An error swallowed without a savepoint leaves the transaction broken: the next statement fails.
            last = f"\n  or the one before it: {previous.describe()}" if previous is not None else ""
            raise AssertionError(
                f"seed {SEED}: the database transaction broke at request #{sent}: {request.describe()}{last}"
                + "".join(f"\nearlier: {failure}" for failure in failures)
            ) from exc
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        problems = problems_with(request, response)
        if after != before:
            problems.append("a refused request changed something")
        if problems:
            failures.append(f"#{sent} {request.describe()}\n    -> " + "; ".join(problems))
            if len(failures) >= 25:
                break
        track(world, request, response)
        previous = request
        if os.environ.get("SCIM_HOSTILE_PROGRESS") and sent % 1000 == 0:
            print(f"{sent} requests in {time.monotonic() - started:.1f} s")
    elapsed = time.monotonic() - started
    summary = f"seed {SEED}: {sent} requests in {elapsed:.0f} s; statuses {dict(sorted(statuses.items()))}"
    print(summary)
    assert not failures, summary + "\n" + "\n".join(failures)
    assert sent == REQUESTS, f"{summary}: stopped by the time budget of {BUDGET_SECONDS:.0f} s"
    # The mix reached the views, not only the front door: successes, client errors of many kinds, writes.
    assert statuses.get(200, 0) > REQUESTS // 10 and len([s for s in statuses if 400 <= s < 500]) >= 6


def track(world: World, request: Request, response) -> None:
    """Follow creations and deletions, so later requests aim at resources that exist."""
    kind = request.endpoint.split("/")[0]
    if kind not in ("Users", "Groups"):
        return
    pool = world.users if kind == "Users" else world.groups
    if response.status_code == 201:
        pool.append(response.json()["id"])
        if kind == "Users":
            world.usernames.append(response.json()["userName"])
    elif request.method == "DELETE" and response.status_code == 204:
        resource_id = request.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        if resource_id in pool:
            index = pool.index(resource_id)
            pool.pop(index)
            if kind == "Users":
                world.usernames.pop(index)
        world.replenish()
