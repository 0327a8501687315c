"""The OpenAPI 3 document of the management API: valid, this API only, and every path it documents answers."""

from __future__ import annotations

import pytest
from drf_spectacular.openapi import AutoSchema
from openapi_spec_validator import validate

from realms.models import RealmGroupRoleMapping
from realms.services import accounts as account_services
from realms.services import roles

from ..factories import RealmFactory, RealmGroupFactory, ServiceAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/")  # public: no token needed
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return response.json()


def test_the_document_is_valid_openapi_3(schema):
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Realms management API"
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["apiToken"]["description"],
    }


def test_it_documents_this_api_only(schema):
    paths = set(schema["paths"])
    assert {
        "/api/realms/",
        "/api/realms/{ref}/",
        "/api/realms/{ref}/role-mappings/",
        "/api/service-accounts/",
        "/api/service-accounts/{account}/",
        "/api/service-accounts/{account}/deactivate/",
        "/api/service-accounts/{account}/tokens/",
        "/api/service-accounts/{account}/tokens/{id}/",
    } <= paths
    assert not [p for p in paths if "/scim/" in p or "whoami" in p or "schema" in p]
    issued = schema["paths"]["/api/service-accounts/{account}/tokens/"]["post"]["responses"]["201"]
    assert issued["content"]["application/json"]["schema"]["$ref"].endswith("/IssuedToken")
    listed = schema["components"]["schemas"]["Token"]["properties"]
    assert "token" not in listed and "key_hash" not in listed


def test_every_documented_path_answers(schema, client, superuser):
    realm = RealmFactory(name="Okta")
    group = RealmGroupFactory(realm=realm, display_name="Engineering")
    role, _ = roles.ensure_realm_viewer_role()
    mapping = RealmGroupRoleMapping.objects.create(realm_group=group, role=role)
    account = ServiceAccountFactory(username="okta-scim")
    token = account_services.issue_token(account, name="Okta").token
    values = {"ref": str(realm.pk), "account": "okta-scim"}
    ids = {"role-mappings": mapping.pk, "tokens": token.pk}
    client.force_login(superuser)
    for template, operations in schema["paths"].items():
        path = template
        for name, value in values.items():
            path = path.replace(f"{{{name}}}", value)
        if "{id}" in path:
            path = path.replace("{id}", str(ids[path.split("/{id}")[0].rsplit("/", 1)[-1]]))
        if "{" in path:  # a path added by another part of the API (e.g. the change feed): the realm's uuid
            path = path.replace("{realm_pk}", str(realm.pk)).replace("{uuid}", str(realm.pk))
        allowed = client.options(path)
        assert allowed.status_code == 200, (template, allowed.status_code)
        allow = {m.strip().lower() for m in allowed["Allow"].split(",")}
        documented = set(operations) - {"parameters"}
        assert documented <= allow, (template, documented - allow)
        if "get" in operations:
            assert client.get(path).status_code == 200, template


def test_every_view_of_the_api_is_documented(schema):
    """A view of realms.api without drf-spectacular's AutoSchema would be left out of the document silently."""
    from django.urls import URLPattern, URLResolver, get_resolver
    from rest_framework.views import APIView

    views, pending = set(), list(get_resolver().url_patterns)
    while pending:
        entry = pending.pop()
        if isinstance(entry, URLResolver):
            pending.extend(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "cls", None)
            if isinstance(view, type) and issubclass(view, APIView) and view.__module__.startswith("realms.api."):
                views.add(view)
    missing = sorted(v.__name__ for v in views if v.schema is not None and not isinstance(v.schema, AutoSchema))
    assert missing == [], "set `schema = drf_spectacular.openapi.AutoSchema()` (or realms.api.base.ManagementSchema)"


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/json", "application/json"),
        ("application/vnd.oai.openapi+json", "application/vnd.oai.openapi+json"),
        ("application/yaml", "application/yaml"),
        ("application/vnd.oai.openapi", "application/vnd.oai.openapi"),
        ("*/*", "application/vnd.oai.openapi+json"),
    ],
)
def test_the_document_answers_what_a_tool_accepts(client, accept, media_type):
    # A tool that asks for application/json (curl -H, an HTTP provider) gets the JSON document, not a 406.
    response = client.get("/api/schema/", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == media_type
    assert "/api/realms/" in response.content.decode()
