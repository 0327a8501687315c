"""DRF authentication by `Authorization: Bearer <API token>`."""

from __future__ import annotations

from django.views.decorators.debug import sensitive_variables
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .models import APIToken
from .services.accounts import TOKEN_BY_HASH, TokenError, authenticate_token


class APITokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    @sensitive_variables("header", "secret", "token")
    def authenticate(self, request: Request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
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
