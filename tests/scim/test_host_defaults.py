"""The SCIM API and /api/whoami under a host's own REST_FRAMEWORK defaults: they declare every class they use, so
what a host's defaults say (session auth, admin-only, form parsers, the browsable API, versioning, anonymous
throttling) changes nothing for Okta."""

import pytest

from .conftest import okta_user, patch_op

HOSTILE_DEFAULTS = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.BrowsableAPIRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.FormParser"],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": "1/day"},
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.AcceptHeaderVersioning",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 1,
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "rest_framework.views.exception_handler",
}


@pytest.fixture
def host_defaults(settings):
    settings.REST_FRAMEWORK = HOSTILE_DEFAULTS


def test_okta_exchange_under_a_host_rest_framework_defaults(host_defaults, scim, client, issued_token):
    created = scim.post("/Users", okta_user("jane@example.com"))
    assert created.status_code == 201, created.content
    user_id = created.json()["id"]
    lookup = scim.get('/Users?filter=userName eq "jane@example.com"&startIndex=1&count=100')
    assert lookup.status_code == 200 and lookup.json()["totalResults"] == 1
    assert scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": False}})).status_code == 200
    missing = scim.get("/Users/nope")
    assert missing.status_code == 404 and missing.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert scim.get("/Users", token=None).status_code == 401

    whoami = client.get("/api/whoami", HTTP_AUTHORIZATION=f"Bearer {issued_token.secret}")
    assert whoami.status_code == 200 and whoami.json()["is_service_account"] is True
    assert client.get("/api/whoami").status_code == 401
