"""SCIM's token authentication: the realm of the URL is read with the token, in the same query.

Every SCIM call needs both the API token (with its user and permissions) and the realm at its root URL, with its
counts. They share no relation; one hand-written statement reads them side by side (realms/sql/token_query.py): a
round trip fewer on every call. On PostgreSQL, the one realm user or group that a GET by id or an IdP's lookup
reads comes in that statement too (realms.sql.queries.Read), used only after every check below. What the token may do
is decided exactly as for every API token (realms.services.accounts.authenticate_token): an unknown, revoked or
expired token is refused before the realm is looked at.
"""

from __future__ import annotations

import uuid

from rest_framework.request import Request

from realms.authentication import APITokenAuthentication
from realms.models import APIToken, Realm
from realms.services.accounts import TOKEN_BY_HASH


class SCIMTokenAuthentication(APITokenAuthentication):
    """Bearer API tokens, with the realm of the URL (None when there is none with SCIM on) read in the token's
    query."""

    realm: Realm | None = None

    def load_token(self, request: Request, key_hash: str) -> APIToken | None:
        realm_pk = (getattr(request, "parser_context", None) or {}).get("kwargs", {}).get("realm_pk")
        if not isinstance(realm_pk, uuid.UUID):
            return super().load_token(request, key_hash)
        # The row the view will read, when its URL says which (scim.views.reads: read_with_token).
        found = TOKEN_BY_HASH.with_scim_realm(key_hash, realm_pk, read=getattr(request, "scim_read", None))
        if found is None:
            return None
        token, self.realm = found
        return token
