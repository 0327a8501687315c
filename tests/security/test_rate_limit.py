"""Rate limiting per token: 429 with an integer Retry-After (Okta waits that long), configurable per deployment."""

import pytest
from django.core.cache import cache

from ..scim.conftest import SCIMClient, assert_scim_error, scim_token


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_over_the_limit_is_429_with_retry_after(scim, settings):
    settings.SCIM = {"RATE_LIMIT": "3/minute"}
    for _ in range(3):
        assert scim.get("/Users").status_code == 200
    response = scim.get("/Users")
    body = assert_scim_error(response, 429)
    assert response["Retry-After"].isdigit() and 1 <= int(response["Retry-After"]) <= 60
    assert response["Retry-After"] in body["detail"]


def test_the_limit_is_per_token(client, scim, realm, settings):
    settings.SCIM = {"RATE_LIMIT": "2/minute"}
    scim.get("/Users")
    scim.get("/Users")
    assert scim.get("/Users").status_code == 429
    other = SCIMClient(client, realm, scim_token())
    assert other.get("/Users").status_code == 200


def test_rate_limiting_can_be_turned_off(scim, settings):
    settings.SCIM = {"RATE_LIMIT": None}
    assert all(scim.get("/ServiceProviderConfig").status_code == 200 for _ in range(30))
