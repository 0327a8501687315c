"""Service accounts and API tokens: typed functions that views, admin and commands call, never the models directly."""

from __future__ import annotations

import datetime
import hmac
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from realms.sql.token_query import TokenQuery

from ..models import APIToken, ServiceAccount
from ..tokens import MalformedToken, check_token_format, generate_token, hash_token

logger = logging.getLogger(__name__)


class TokenError(Exception):
    """A token was presented that does not authenticate. The message is safe to show to the caller."""


@dataclass(frozen=True)
class IssuedToken:
    token: APIToken
    secret: str  # shown once to whoever issued it, never stored


@transaction.atomic
def create_service_account(
    username: str,
    *,
    description: str = "",
    groups: Iterable[Group] = (),
) -> ServiceAccount:
    """A new user of the host's AUTH_USER_MODEL without a usable password, never staff nor superuser, with its
    ServiceAccount row: it can only authenticate with the API tokens issued for it."""
    user_model = get_user_model()
    user = user_model(**{user_model.USERNAME_FIELD: username})
    user.set_unusable_password()
    # The username is validated (format, uniqueness) as the host's model defines it; other fields keep defaults.
    user.full_clean(exclude=[f.name for f in user_model._meta.get_fields() if f.name != user_model.USERNAME_FIELD])
    user.save()
    account = ServiceAccount.objects.create(user=user, description=description)
    if hasattr(user, "groups"):
        user.groups.set(list(groups))
    logger.info("Service account %s created", username)
    return account


@transaction.atomic
def update_service_account(
    account: ServiceAccount,
    *,
    description: str | None = None,
    groups: Iterable[Group] | None = None,
    is_active: bool | None = None,
) -> ServiceAccount:
    """Change what may change on a service account (None: left as is). Deactivated, every call with its tokens is
    refused (authenticate_token); its username, password and staff flags are never changed here (realms.receivers)."""
    if description is not None and description != account.description:
        account.description = description
        account.save(update_fields=["description"])
    user = account.user
    if groups is not None and hasattr(user, "groups"):
        user.groups.set(list(groups))
    if is_active is not None and user.is_active != is_active:
        user.is_active = is_active
        user.save(update_fields=["is_active"])
        logger.info("Service account %s %s", user.get_username(), "reactivated" if is_active else "deactivated")
    return account


@transaction.atomic
def issue_token(
    user: Any,
    *,
    name: str,
    expires_at: datetime.datetime | None = None,
    created_by: Any | None = None,
    instance: APIToken | None = None,
    realm=None,
) -> IssuedToken:
    """Create a token (or save `instance`, an unsaved one from an admin form) and return it with its secret."""
    generated = generate_token()
    token = instance if instance is not None else APIToken()
    token.user = user
    token.name = name
    token.expires_at = expires_at
    token.key_hash = generated.key_hash
    token.hint = generated.hint
    token.created_by = created_by
    token.realm = realm
    token.save()
    logger.info("API token %s (…%s) issued for %s", token.pk, token.hint, user.get_username())
    return IssuedToken(token=token, secret=generated.secret)


def has_no_permission(user: Any) -> bool:
    """Whether every call with this user's tokens is refused (403): a service account in no group, or in groups
    without any permission. Told where tokens are issued and on the account's page, not found at Okta's first call."""
    if getattr(user, "is_superuser", False):
        return False
    return not user.get_all_permissions()


def revoke_token(token: APIToken, *, revoked_by: Any | None = None) -> APIToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = revoked_by
        token.save(update_fields=["revoked_at", "revoked_by"])
        logger.info("API token %s (…%s) of %s revoked", token.pk, token.hint, token.user.get_username())
    return token


# The token with its user and the user's permission names, by key_hash, in one hand-written query
# (realms/sql/token_query.py); the SCIM API reads the realm of its URL in the same query (scim/authentication.py).
TOKEN_BY_HASH = TokenQuery(APIToken)


@sensitive_variables("secret")
def authenticate_token(secret: str, load: Callable[[str], APIToken | None] | None = None) -> APIToken:
    """Return the active APIToken (with its user) for `secret`, or raise TokenError.

    `load(key_hash)` reads the token (by default TOKEN_BY_HASH; a caller may read more in the same query). Malformed
    tokens are refused before any query. last_used_at is written at most once per
    TOKEN_LAST_USED_RESOLUTION seconds, so authentication does not cost a write on every request.
    """
    from ..conf import app_settings

    try:
        check_token_format(secret)
    except MalformedToken as exc:
        raise TokenError(f"Invalid token: {exc}.") from None
    key_hash = hash_token(secret)
    # The user's permissions come with the token (one query): every API call checks one right after.
    token = (load or TOKEN_BY_HASH.first)(key_hash)
    if token is None or not hmac.compare_digest(token.key_hash, key_hash):
        raise TokenError("Invalid token: unknown token.")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenError("Invalid token: this token was revoked.")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenError("Invalid token: this token has expired.")
    if not token.user.is_active:
        raise TokenError("Invalid token: the token's user is inactive.")
    resolution = datetime.timedelta(seconds=app_settings.TOKEN_LAST_USED_RESOLUTION)
    if token.last_used_at is None or now - token.last_used_at >= resolution:
        APIToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
