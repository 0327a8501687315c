import datetime
import math

import pytest
from django.utils import timezone

from realms.models import APIToken
from realms.services import accounts as services
from realms.tokens import (
    ALPHABET,
    RANDOM_LENGTH,
    MalformedToken,
    check_token_format,
    generate_token,
    hash_token,
)


def test_token_has_prefix_enough_randomness_and_valid_checksum():
    token = generate_token()
    assert token.secret.startswith("zrlm_")
    assert RANDOM_LENGTH * math.log2(len(ALPHABET)) >= 160
    check_token_format(token.secret)  # does not raise
    assert token.key_hash == hash_token(token.secret)
    assert token.hint == token.secret[-4:]


def test_tokens_are_unique():
    assert len({generate_token().secret for _ in range(200)}) == 200


@pytest.mark.parametrize(
    "mangle, reason",
    [
        (lambda s: s.replace("zrlm_", "ghp_"), "does not start"),
        (lambda s: s[:-1], "wrong length"),
        (lambda s: s + "0", "wrong length"),
        (lambda s: s[:10] + "!" + s[11:], "invalid characters"),
        (lambda s: s[:10] + ("a" if s[10] != "a" else "b") + s[11:], "checksum"),
    ],
)
def test_malformed_tokens_are_refused_before_any_lookup(mangle, reason, django_assert_num_queries, db):
    secret = generate_token().secret
    with pytest.raises(MalformedToken, match=reason):
        check_token_format(mangle(secret))
    with django_assert_num_queries(0), pytest.raises(services.TokenError, match=reason):
        services.authenticate_token(mangle(secret))


def test_only_the_hash_is_stored(issued_token):
    stored = APIToken.objects.get(pk=issued_token.token.pk)
    assert stored.key_hash == hash_token(issued_token.secret)
    values = [str(v) for v in APIToken.objects.filter(pk=stored.pk).values().first().values()]
    assert not any(issued_token.secret in v for v in values)
    assert issued_token.secret not in str(stored)
    assert stored.masked.endswith(issued_token.secret[-4:])


def test_authenticate_returns_token_and_user(issued_token, service_account):
    token = services.authenticate_token(issued_token.secret)
    assert token.pk == issued_token.token.pk
    assert token.user == service_account


def test_unknown_token_is_refused(db):
    with pytest.raises(services.TokenError, match="unknown"):
        services.authenticate_token(generate_token().secret)


def test_expired_token_is_refused(service_account):
    issued = services.issue_token(service_account, name="t", expires_at=timezone.now() + datetime.timedelta(hours=1))
    services.authenticate_token(issued.secret)
    APIToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(services.TokenError, match="expired"):
        services.authenticate_token(issued.secret)


def test_revoked_token_is_refused_at_once(issued_token, superuser):
    services.authenticate_token(issued_token.secret)
    services.revoke_token(issued_token.token, revoked_by=superuser)
    with pytest.raises(services.TokenError, match="revoked"):
        services.authenticate_token(issued_token.secret)
    token = APIToken.objects.get(pk=issued_token.token.pk)
    assert token.revoked_by == superuser
    assert token.status == "revoked"


def test_inactive_users_token_is_refused(issued_token, service_account):
    service_account.is_active = False
    service_account.save()
    with pytest.raises(services.TokenError, match="inactive"):
        services.authenticate_token(issued_token.secret)


def test_many_tokens_per_user(service_account):
    first = services.issue_token(service_account, name="one")
    second = services.issue_token(service_account, name="two")
    assert services.authenticate_token(first.secret).pk == first.token.pk
    assert services.authenticate_token(second.secret).pk == second.token.pk
    assert service_account.realms_api_tokens.count() == 2


def test_last_used_is_written_at_most_once_per_resolution(issued_token, django_assert_num_queries, settings):
    settings.REALMS = {"TOKEN_LAST_USED_RESOLUTION": 60}
    assert APIToken.objects.get(pk=issued_token.token.pk).last_used_at is None
    with django_assert_num_queries(2):  # lookup + last_used_at update
        services.authenticate_token(issued_token.secret)
    first_use = APIToken.objects.get(pk=issued_token.token.pk).last_used_at
    assert first_use is not None
    with django_assert_num_queries(1):  # lookup only: no write within the resolution window
        services.authenticate_token(issued_token.secret)
    assert APIToken.objects.get(pk=issued_token.token.pk).last_used_at == first_use
    APIToken.objects.filter(pk=issued_token.token.pk).update(last_used_at=first_use - datetime.timedelta(minutes=2))
    services.authenticate_token(issued_token.secret)
    assert APIToken.objects.get(pk=issued_token.token.pk).last_used_at > first_use - datetime.timedelta(minutes=1)


def test_token_prefix_setting_is_read_lazily(settings, service_account):
    settings.REALMS = {"TOKEN_PREFIX": "acme_"}
    issued = services.issue_token(service_account, name="acme")
    assert issued.secret.startswith("acme_")
    assert services.authenticate_token(issued.secret).pk == issued.token.pk
