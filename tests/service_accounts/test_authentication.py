"""The Bearer token authentication class, through a real DRF endpoint (/api/whoami)."""

import datetime

import pytest
from django.utils import timezone

from realms.models import APIToken
from realms.services import accounts as services
from realms.tokens import generate_token

URL = "/api/whoami"


def test_valid_bearer_token_authenticates(client, issued_token):
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {issued_token.secret}")
    assert response.status_code == 200
    assert response.json()["username"] == "okta-scim"
    assert response.json()["is_service_account"] is True
    assert response.json()["token"]["name"] == "Okta provisioning"


def test_whoami_costs_one_query_the_benchmarks_floor(client, issued_token, user_factory, django_assert_num_queries):
    """The smallest authenticated endpoint: the token, its user, permissions and service-account flag in one
    statement (once last_used_at has been written by a first call, at most once a minute)."""
    client.get(URL, HTTP_AUTHORIZATION=f"Bearer {issued_token.secret}")
    with django_assert_num_queries(1):
        assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {issued_token.secret}").json()["is_service_account"]
    person = user_factory(username="alice")
    secret = services.issue_token(person, name="personal").secret
    client.get(URL, HTTP_AUTHORIZATION=f"Bearer {secret}")  # first use: last_used_at written
    with django_assert_num_queries(1):
        assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {secret}").json()["is_service_account"] is False


def test_keyword_is_case_insensitive(client, issued_token):
    response = client.get(URL, HTTP_AUTHORIZATION=f"bearer {issued_token.secret}")
    assert response.status_code == 200


def test_no_token_gets_401_with_www_authenticate(client, db):
    response = client.get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer a b",
        "Bearer zrlm_nottherightlength",
        "Bearer " + "zrlm_" + "A" * 38,
        "Bearer ghp_abcdefabcdefabcdefabcdefabcdefabcdef",
    ],
)
def test_malformed_tokens_get_401(client, db, header):
    response = client.get(URL, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response
    assert "detail" in response.json()


def test_non_ascii_token_gets_401(client, db):
    response = client.get(URL, HTTP_AUTHORIZATION="Bearer zrlm_é")
    assert response.status_code == 401


def test_unknown_token_gets_401(client, db):
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {generate_token().secret}")
    assert response.status_code == 401
    assert "unknown" in response.json()["detail"]


def test_expired_token_gets_401(client, service_account):
    issued = services.issue_token(service_account, name="x", expires_at=timezone.now() + datetime.timedelta(days=1))
    APIToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=5))
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_revoked_token_gets_401(client, issued_token):
    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {issued_token.secret}").status_code == 200
    services.revoke_token(issued_token.token)
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {issued_token.secret}")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_inactive_users_token_gets_401(client, issued_token, service_account):
    service_account.is_active = False
    service_account.save()
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {issued_token.secret}")
    assert response.status_code == 401


def test_basic_auth_is_not_accepted(client, issued_token):
    response = client.get(URL, HTTP_AUTHORIZATION="Basic b2t0YS1zY2ltOnBhc3N3b3Jk")
    assert response.status_code == 401


def test_session_login_does_not_authenticate_the_api(client, superuser):
    client.force_login(superuser)
    assert client.get(URL).status_code == 401


def test_last_use_is_recorded(client, issued_token):
    client.get(URL, HTTP_AUTHORIZATION=f"Bearer {issued_token.secret}")
    assert APIToken.objects.get(pk=issued_token.token.pk).last_used_at is not None
