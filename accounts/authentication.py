"""DRF authentication by `Authorization: Bearer <API token>`."""

from __future__ import annotations

from django.views.decorators.debug import sensitive_variables
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .services import TokenError, authenticate_token


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
            token = authenticate_token(secret)
        except TokenError as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'
