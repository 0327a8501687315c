"""DRF authentication by `Authorization: Bearer <API token>`."""

from __future__ import annotations

import logging

from django.views.decorators.debug import sensitive_variables
from rest_framework import HTTP_HEADER_ENCODING, authentication, exceptions
from rest_framework.request import Request

from .models import APIToken
from .services.accounts import TOKEN_BY_HASH, TokenError, authenticate_token

logger = logging.getLogger(__name__)


@sensitive_variables("parts")
def okta_stray_bearer(parts: list[bytes], keyword: bytes, request: Request) -> list[bytes]:
    """Okta: an admin who pastes "Bearer <token>" into the token field of the app's Provisioning tab makes Okta send
    `Authorization: Bearer Bearer <token>`. The second keyword is dropped (the token is then checked in full, like
    any other) and a warning, which never holds the token, says what to fix in Okta."""
    if len(parts) == 3 and parts[1].lower() == keyword:
        logger.warning(
            "%s %s: the Authorization header reads 'Bearer Bearer <token>': the IdP's token field (Okta: API Token, "
            "in the app's Provisioning tab) holds a stray 'Bearer' before the token. Accepted; remove it there.",
            request.method,
            request.path,
        )
        return [parts[0], parts[2]]
    return parts


def authorization_header(request: Request) -> bytes:
    """The Authorization header, as bytes: what DRF's `get_authorization_header` returns, read from `request.META`
    rather than from `request.headers`, which Django builds on first use from every header of the request (about
    10 µs that a SCIM call, which reads no other header that way, then saves)."""
    header = request.META.get("HTTP_AUTHORIZATION", b"")
    return header.encode(HTTP_HEADER_ENCODING) if isinstance(header, str) else header


class APITokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    @sensitive_variables("header", "secret", "token")
    def authenticate(self, request: Request):
        header = authorization_header(request).split()
        keyword = self.keyword.lower().encode()
        if not header or header[0].lower() != keyword:
            return None
        header = okta_stray_bearer(header, keyword, request)
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: expected 'Bearer <token>'.")
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token: it contains non-ASCII characters.") from None
        try:
            token = authenticate_token(secret, load=lambda key_hash: self.load_token(request, key_hash))
        except TokenError as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        return token.user, token

    def load_token(self, request: Request, key_hash: str) -> APIToken | None:
        """The token with this hash, its user and permissions (one query); subclasses may read more with it."""
        return TOKEN_BY_HASH.first(key_hash)

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'
