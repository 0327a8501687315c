"""/Groups (RFC 7644 §3.3 to §3.6, RFC 7643 §4.2). Members are users of the same realm."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request

from realms import services
from realms.models import RealmGroup, RealmGroupMembership

from .. import schemas as S
from ..patch import apply_patch
from ..resources import GROUP_EXTENSIONS, group_data_from_attributes, normalize_resource, parse_group, render_group
from ..responses import SCIMResponse
from .base import SCIMViewSet
from .etags import if_match_version, with_etag
from .parsing import asks_for_attributes
from .reads import ResourceMixin
from .users import raise_identity_error


class GroupMixin(ResourceMixin):
    scim_model = "realmgroup"
    resource_type = "Group"
    endpoint = "Groups"
    model = RealmGroup
    core_urn = S.GROUP_URN
    related = "members"
    count_attr = "groups"

    def related_values(self, ids: list[Any]) -> dict[Any, list[tuple[Any, str, str]]]:
        """The members of these groups, in one query (none at all with excludedAttributes=members)."""
        members: dict[Any, list[tuple[Any, str, str]]] = defaultdict(list)
        rows = (
            RealmGroupMembership.objects.filter(group_id__in=ids)
            .order_by("group_id", "user__username")
            .values_list("group_id", "user_id", "user__username")
        )
        for group_id, user_id, username in rows:
            members[group_id].append((user_id, username, self.location("Users", user_id)))
        return members

    def render(self, obj: RealmGroup, location: str, related: Any) -> dict[str, Any]:
        return render_group(obj, location, related)

    def lock(self, pk: Any) -> RealmGroup | None:
        return services.locked_group(self.realm, pk)


class GroupViewSet(GroupMixin, SCIMViewSet):
    """/Groups (RFC 7644 §3.3 to §3.6): each handler parses the request, calls a realm service and renders the
    result; membership rules (members of the same realm, only the difference written) are the services'."""

    lookup_url_kwarg = "resource_id"

    def list(self, request: Request, realm_pk) -> SCIMResponse:
        """GET /Groups: filter, sort, page and attribute selection from the query string (RFC 7644 §3.4.2); with
        excludedAttributes=members no membership is read."""
        return self.search(request.query_params)

    @action(
        detail=False, methods=["post"], url_path=r"\.search", url_name="search", name="Group Search", is_search=True
    )
    def dot_search(self, request: Request, realm_pk) -> SCIMResponse:
        """POST /Groups/.search: the same query in a SearchRequest body, so it needs the view permission, not add
        (RFC 7644 §3.4.3)."""
        return self.search_request(request)

    @transaction.atomic
    def create(self, request: Request, realm_pk) -> SCIMResponse:
        """POST /Groups (RFC 7644 §3.3): the group and its members in one transaction; 201 with Location and
        ETag."""
        data, member_ids = parse_group(request.data)
        try:
            group = services.create_group(self.realm, data, self.actor(), member_ids or ())
        except services.IdentityError as exc:
            raise_identity_error(exc)
        response = SCIMResponse(self.represent(group), status=status.HTTP_201_CREATED)
        response["Location"] = self.location("Groups", group.pk)
        return with_etag(response, group.version)

    def retrieve(self, request: Request, realm_pk, resource_id: str) -> SCIMResponse:
        """GET /Groups/{id} (RFC 7644 §3.4.1), answering If-None-Match with a 304 (§3.14)."""
        return self.get_one(request, resource_id)

    @transaction.atomic
    def update(self, request: Request, realm_pk, resource_id: str) -> SCIMResponse:
        """RFC 7644 §3.5.1: replace, members included (Okta's App Integration Wizard apps rename and change
        membership this way); only the difference with the current members is written."""
        group = self.get_locked(resource_id)
        expected = if_match_version(request, group.version)
        data, member_ids = parse_group(request.data)
        membership = services.MembershipChange(replace_ids=tuple(member_ids or ()))
        try:
            group = services.update_group(group, self.actor(), data, membership, expected_version=expected, locked=True)
        except services.IdentityError as exc:
            raise_identity_error(exc)
        return with_etag(SCIMResponse(self.represent(group, self.selection(request))), group.version)

    @transaction.atomic
    def partial_update(self, request: Request, realm_pk, resource_id: str) -> SCIMResponse:
        """RFC 7644 §3.5.2: a 200 carries the entire resource, subject to `attributes`/`excludedAttributes`, or the
        answer is a 204. A group's entire resource holds all its members (tens of thousands, maybe), so the answer
        is a 204 with the new ETag unless the client asks for attributes; then a 200 with what they select, members
        loaded only if selected. A membership change costs time in proportion to the change, not to the group."""
        group = self.get_locked(resource_id)
        expected = if_match_version(request, group.version)
        document = dict(group.attributes) if isinstance(group.attributes, dict) else {}
        document["displayName"] = group.display_name
        if group.external_id:
            document["externalId"] = group.external_id
        new_document, membership = apply_patch(document, request.data, S.GROUP_SCHEMA, GROUP_EXTENSIONS)
        attributes = normalize_resource(new_document, S.GROUP_SCHEMA, GROUP_EXTENSIONS, skip=("members",))
        data = group_data_from_attributes(attributes)
        if attributes == normalize_resource(document, S.GROUP_SCHEMA, GROUP_EXTENSIONS, skip=("members",)):
            data = None  # only members change (Okta re-sends the same name with every membership update)
        try:
            group = services.update_group(group, self.actor(), data, membership, expected_version=expected, locked=True)
        except services.IdentityError as exc:
            raise_identity_error(exc)
        if not asks_for_attributes(request):
            return with_etag(SCIMResponse(status=status.HTTP_204_NO_CONTENT), group.version)
        return with_etag(SCIMResponse(self.represent(group, self.selection(request))), group.version)

    @transaction.atomic
    def destroy(self, request: Request, realm_pk, resource_id: str) -> SCIMResponse:
        """DELETE /Groups/{id} (RFC 7644 §3.6): 204; the memberships go with it, the users stay."""
        group = self.get_locked(resource_id)
        expected = if_match_version(request, group.version)
        try:
            services.delete_group(group, self.actor(), expected_version=expected, locked=True)
        except services.IdentityError as exc:
            raise_identity_error(exc)
        return SCIMResponse(status=status.HTTP_204_NO_CONTENT)
