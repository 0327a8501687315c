"""Callers of the management API: service accounts holding chosen permissions, and their tokens over HTTP."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.test import Client

from realms.services import accounts as account_services

from ..factories import GroupFactory, ServiceAccountFactory


@dataclass
class Caller:
    """A service account's token, sending JSON as a config-as-code tool does."""

    client: Client
    secret: str
    user: Any

    def call(self, method: str, path: str, body: Any = None, **extra: Any):
        kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {self.secret}", **extra}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(self.client, method.lower())(path, **kwargs)

    def get(self, path: str, **extra: Any):
        return self.call("GET", path, **extra)

    def post(self, path: str, body: Any = None):
        return self.call("POST", path, {} if body is None else body)

    def put(self, path: str, body: Any):
        return self.call("PUT", path, body)

    def patch(self, path: str, body: Any):
        return self.call("PATCH", path, body)

    def delete(self, path: str):
        return self.call("DELETE", path)


def make_caller(client: Client, permissions: list[str], *, username: str | None = None, realm=None) -> Caller:
    """A service account in a group holding exactly `permissions` ("app.codename"), and a token for it."""
    group = GroupFactory(permissions=permissions)
    user = ServiceAccountFactory(groups=[group], **({"username": username} if username else {}))
    issued = account_services.issue_token(user, name="config as code", realm=realm)
    return Caller(client, issued.secret, user)


def perms(model: str, *actions: str) -> list[str]:
    return [f"realms.{action}_{model}" for action in actions or ("view", "add", "change", "delete")]
