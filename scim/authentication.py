"""SCIM's token authentication: the realm of the URL is read with the token, in the same query.

Every SCIM call needs both the API token (with its user and permissions) and the realm at its root URL. They share
no relation, so `CompiledJoin` puts the two compiled queries side by side in one statement: a round trip fewer on
every call. What the token may do is decided exactly as for every API token
(realms.services.accounts.authenticate_token): an unknown, revoked or expired token is refused before the realm is
looked at.
"""

from __future__ import annotations

import uuid

from rest_framework.request import Request

from config.compiled import CompiledJoin, CompiledQuery
from realms.authentication import APITokenAuthentication
from realms.models import APIToken, Realm
from realms.services.accounts import TOKEN_BY_HASH

# The IdP metadata XML (kilobytes) is never needed to serve SCIM: it stays in the database (a deferred field).
# The realm's user and group counts come with it (an unfiltered list's totalResults).
SCIM_REALM = CompiledQuery(
    lambda pk: (
        Realm.objects.defer("idp_metadata").select_related("counts").filter(pk=pk, scim_enabled=True).order_by()[:1]
    ),
    kinds=["uuid"],
)
_TOKEN_AND_REALM = CompiledJoin(TOKEN_BY_HASH, SCIM_REALM)


class SCIMTokenAuthentication(APITokenAuthentication):
    """Bearer API tokens, with the realm of the URL (None when there is none with SCIM on) read in the token's
    query."""

    realm: Realm | None = None

    def load_token(self, request: Request, key_hash: str) -> APIToken | None:
        realm_pk = (getattr(request, "parser_context", None) or {}).get("kwargs", {}).get("realm_pk")
        if not isinstance(realm_pk, uuid.UUID):
            return super().load_token(request, key_hash)
        found = _TOKEN_AND_REALM.first(key_hash, realm_pk)
        if found is None:
            return None
        token, self.realm = found
        return token
