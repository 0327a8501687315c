"""SCIM over HTTP, the way Okta sends it: bearer token, application/scim+json, absolute paths under the root URL."""

from __future__ import annotations

import json
from typing import Any

import pytest

from realms.services import SCIM_PERMISSION_CODENAMES
from realms.services import accounts as account_services

from ..factories import GroupFactory, RealmFactory, ServiceAccountFactory

SCIM_JSON = "application/scim+json; charset=utf-8"


class SCIMClient:
    """A thin wrapper over Django's test client sending real HTTP-shaped SCIM requests."""

    def __init__(self, client, realm, token: str | None) -> None:
        self.client = client
        self.realm = realm
        self.token = token
        self.root = f"/api/realms/{realm.pk}/scim/v2"

    def url(self, path: str) -> str:
        return path if path.startswith("/api/") else f"{self.root}{path}"

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = SCIM_JSON,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = "default",
    ):
        token = self.token if token == "default" else token
        extra = {"HTTP_ACCEPT": "application/scim+json"}
        if token is not None:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        for name, value in (headers or {}).items():
            extra["HTTP_" + name.upper().replace("-", "_")] = value
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return self.client.generic(method, self.url(path), data=data, content_type=content_type, **extra)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs):
        return self.request("PUT", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs):
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)


def patch_op(*operations: dict) -> dict:
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": list(operations)}


def okta_user(username: str, given: str = "Jane", family: str = "Doe", external_id: str | None = None) -> dict:
    """The body Okta POSTs for a new user (idp-notes: placeholder password, groups [], locale, externalId)."""
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": username,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": username, "type": "work"}],
        "displayName": f"{given} {family}",
        "locale": "en-US",
        "externalId": external_id or f"00u{abs(hash(username)) % 10**12:012d}",
        "groups": [],
        "password": "tmp-Pa55word!",
        "active": True,
    }


def scim_token(realm=None, permissions=None) -> str:
    group = GroupFactory(
        permissions=permissions if permissions is not None else [f"realms.{c}" for c in SCIM_PERMISSION_CODENAMES]
    )
    account = ServiceAccountFactory(groups=[group])
    return account_services.issue_token(account, name="test").secret


@pytest.fixture
def realm(db):
    return RealmFactory(name="Okta", scim_enabled=True)


@pytest.fixture
def scim(client, realm) -> SCIMClient:
    return SCIMClient(client, realm, scim_token())


@pytest.fixture
def make_scim(client):
    def make(realm, permissions=None, token: str | None = None) -> SCIMClient:
        return SCIMClient(client, realm, token if token is not None else scim_token(permissions=permissions))

    return make


def assert_scim_error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.content[:2000]
    assert response["Content-Type"].startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == str(status)
    assert isinstance(body["detail"], str) and body["detail"]
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
    return body
