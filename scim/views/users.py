"""/Users (RFC 7644 §3.3 to §3.6, RFC 7643 §4.1)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from django.db import transaction
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request

from realms import services
from realms.models import RealmGroupMembership, RealmUser
from realms.sql import queries
from realms.sql.aggregates import UserGroupsJSON, decode_groups

from .. import schemas as S
from ..errors import InvalidValue, PreconditionFailed, Uniqueness
from ..patch import apply_patch
from ..resources import USER_EXTENSIONS, normalize_resource, parse_user, render_user, user_data_from_attributes
from ..responses import SCIMResponse
from .base import SCIMViewSet
from .etags import if_match_holds, if_match_version, with_etag
from .reads import ResourceMixin


def raise_identity_error(exc: services.IdentityError):
    """Map the realm services' errors to SCIM errors (RFC 7644 §3.12)."""
    if isinstance(exc, services.UniquenessError):
        raise Uniqueness(str(exc)) from None
    if isinstance(exc, services.VersionMismatch):
        raise PreconditionFailed(str(exc)) from None
    raise InvalidValue(str(exc)) from None


class UserMixin(ResourceMixin):
    scim_model = "realmuser"
    resource_type = "User"
    endpoint = "Users"
    model = RealmUser
    core_urn = S.USER_URN
    related = "groups"
    inline_attr = "groups_json"
    count_attr = "users"

    def related_values(self, ids: list[Any]) -> dict[Any, list[tuple[Any, str, str]]]:
        """The groups of these users, in one query."""
        groups: dict[Any, list[tuple[Any, str, str]]] = defaultdict(list)
        rows = (
            RealmGroupMembership.objects.filter(user_id__in=ids)
            .order_by("group__display_name", "group_id")
            .values_list("user_id", "group_id", "group__display_name")
        )
        for user_id, group_id, display in rows:
            groups[user_id].append((group_id, display, self.location("Groups", group_id)))
        return groups

    @classmethod
    def with_related(cls, queryset: Any) -> Any:
        return queryset.annotate(groups_json=UserGroupsJSON())

    def inlined_related(self, obj: RealmUser) -> list[tuple[Any, str, str]] | None:
        loaded = getattr(obj, "groups_json", None)
        if loaded is None:
            return None
        return [(gid, name, self.location("Groups", gid)) for gid, name in decode_groups(loaded)]

    def render(self, obj: RealmUser, location: str, related: Any) -> dict[str, Any]:
        return render_user(obj, location, related)

    def lock(self, pk: Any) -> RealmUser | None:
        return services.locked_user(self.realm, pk)


class UserViewSet(UserMixin, SCIMViewSet):
    """/Users (RFC 7644 §3.3 to §3.6): each handler parses the request, calls a realm service and renders the
    result; the rules (uniqueness, what a replace changes, the audit) are the services'."""

    lookup_url_kwarg = "resource_id"

    def list(self, request: Request, realm_pk) -> SCIMResponse:
        """GET /Users: filter, sort, page and attribute selection from the query string (RFC 7644 §3.4.2)."""
        return self.search(request.query_params)

    @action(detail=False, methods=["post"], url_path=r"\.search", url_name="search", name="User Search", is_search=True)
    def dot_search(self, request: Request, realm_pk) -> SCIMResponse:
        """POST /Users/.search: the same query in a SearchRequest body, so it needs the view permission, not add
        (RFC 7644 §3.4.3)."""
        return self.search_request(request)

    def create(self, request: Request, realm_pk) -> SCIMResponse:
        """POST /Users (RFC 7644 §3.3): 201 with Location and ETag."""
        # No transaction opened here: create_user saves all or nothing (one statement on PostgreSQL).
        data = parse_user(request.data)
        try:
            user = services.create_user(self.realm, data, self.actor())
        except services.IdentityError as exc:
            raise_identity_error(exc)
        response = SCIMResponse(self.represent(user, related=[]), status=status.HTTP_201_CREATED)
        response["Location"] = self.location("Users", user.pk)
        return with_etag(response, user.version)

    def retrieve(self, request: Request, realm_pk, resource_id: str) -> SCIMResponse:
        """GET /Users/{id} (RFC 7644 §3.4.1), answering If-None-Match with a 304 (§3.14)."""
        return self.get_one(request, resource_id)

    def read_with_token(self, request: Request, url_kwargs: dict[str, Any]) -> queries.Read | None:
        """A PUT reads its user with the token too (with its emails and groups), to replace it without a lock when
        nobody writes it meanwhile (`update`)."""
        if getattr(self, "action", None) != "update":
            return super().read_with_token(request, url_kwargs)
        try:
            pk = uuid.UUID(str(url_kwargs.get(self.lookup_url_kwarg)))
        except ValueError:
            return None
        return queries.Read(RealmUser, "id", pk, with_groups=True, with_emails=True)

    def update(self, request: Request, realm_pk, resource_id: str) -> SCIMResponse:
        """RFC 7644 §3.5.1: replace. readOnly attributes sent back (id, meta, groups) and password are ignored.

        Okta's profile updates (a GET, then a PUT of the representation modified) are written without a lock held
        while they are computed, when the user read with the token (no transaction held) is still the user in the
        database (realms.services: replace_user_if_unchanged); anything else, and any doubt, is replaced under the
        row lock."""
        read = self.read_with_token(request, self.kwargs)
        user = self._read_ahead(read)[1] if read is not None else None  # None unless the token's statement read it
        if user is not None and if_match_holds(request, user.version):
            data = parse_user(request.data)
            user.realm = self.realm  # read with the token: no query for what the signals of the write carry
            replaced = services.replace_user_if_unchanged(user, data, self.actor())
            if replaced is not None:
                return with_etag(SCIMResponse(self.represent(replaced)), replaced.version)
        return self._update_locked(request, resource_id)

    @transaction.atomic
    def _update_locked(self, request: Request, resource_id: str) -> SCIMResponse:
        user = self.get_locked(resource_id)
        expected = if_match_version(request, user.version)
        data = parse_user(request.data)
        return self._replace(user, data, expected)

    @transaction.atomic
    def partial_update(self, request: Request, realm_pk, resource_id: str) -> SCIMResponse:
        """RFC 7644 §3.5.2: the operations apply to the user's current document, all or none; an unchanged
        result writes nothing (no new version)."""
        user = self.get_locked(resource_id)
        expected = if_match_version(request, user.version)
        document = dict(user.attributes) if isinstance(user.attributes, dict) else {}
        document["userName"] = user.username
        document["active"] = user.active
        if user.external_id:
            document["externalId"] = user.external_id
        new_document, _ = apply_patch(document, request.data, S.USER_SCHEMA, USER_EXTENSIONS)
        attributes = normalize_resource(new_document, S.USER_SCHEMA, USER_EXTENSIONS, skip=("groups", "password"))
        data = user_data_from_attributes(attributes)
        baseline = normalize_resource(document, S.USER_SCHEMA, USER_EXTENSIONS, skip=("groups", "password"))
        if attributes == baseline:
            return with_etag(SCIMResponse(self.represent(user)), user.version)  # nothing changed: no write
        return self._replace(user, data, expected)

    def _replace(self, user: RealmUser, data: services.UserData, expected: int | None) -> SCIMResponse:
        try:
            user = services.replace_user(user, data, self.actor(), expected_version=expected, locked=True)
        except services.IdentityError as exc:
            raise_identity_error(exc)
        return with_etag(SCIMResponse(self.represent(user)), user.version)

    @transaction.atomic
    def destroy(self, request: Request, realm_pk, resource_id: str) -> SCIMResponse:
        """DELETE /Users/{id} (RFC 7644 §3.6): 204, checking If-Match under the row lock (§3.14)."""
        user = self.get_locked(resource_id)
        expected = if_match_version(request, user.version)
        try:
            services.delete_user(user, self.actor(), expected_version=expected, locked=True)
        except services.IdentityError as exc:
            raise_identity_error(exc)
        return SCIMResponse(status=status.HTTP_204_NO_CONTENT)


__all__ = ["UserViewSet", "raise_identity_error"]
