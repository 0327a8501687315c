"""Read: the User or Group resources a SCIM call reads, one by id (with its ETag) or a filtered, sorted page, and the
IdP lookups served by hand-written SQL (realms.sql.queries), read in the token's own statement when the URL says which
row (`read_with_token`)."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from rest_framework.request import Request

from realms.sql import queries, token_query

from ..errors import InvalidFilter, InvalidValue, NotFound, SCIMError
from ..filters import Compare
from ..filters.compiler import FilterCompileError, compile_filter, compile_sort
from ..responses import SCIMResponse
from ..selection import Selection, apply_selection
from . import paging
from .etags import not_modified, with_etag
from .parsing import ListQuery, list_response, parse_list_query

# The attributes IdPs look resources up by before creating them (docs/idp-notes: Okta's userName, Entra's
# externalId, both IdPs' group displayName): equality on them is served by hand-written SQL (realms/sql/queries.py),
# with the column and the caseExact of RFC 7643 (userName §4.1.1 and a Group's displayName §4.2: caseExact false,
# compared lower-cased like the filter compiler does; externalId §3.1: caseExact true).
LOOKUP_ATTRIBUTES: dict[str, dict[str, tuple[str, bool]]] = {
    "User": {"username": ("username", True), "externalid": ("external_id", False)},
    "Group": {"displayname": ("display_name", True), "externalid": ("external_id", False)},
}


class ResourceMixin:
    """Reading User or Group resources: one object, or a filtered, sorted page with its related values.

    `related` is the multi-valued attribute loaded from memberships (a user's `groups`, a group's `members`):
    one query for a whole page, and none when attribute selection leaves it out.
    """

    resource_type: str  # "User" / "Group"
    endpoint: str  # "Users" / "Groups"
    model: Any
    core_urn: str
    related: str
    # The annotation carrying `related` in the resource's own query (a user's groups_json); None: a query of its own.
    inline_attr: str | None = None
    count_attr: str  # "users" / "groups": the realm's count of these resources (RealmCounts)

    def related_values(self, ids: list[Any]) -> dict[Any, list[tuple[Any, str, str]]]:
        raise NotImplementedError

    @classmethod
    def with_related(cls, queryset: Any) -> Any | None:
        """The queryset annotated with `inline_attr`, the related values read in the same query; None when this
        resource loads them with a query of their own (a group's members can be tens of thousands: never inlined)."""
        return None

    def inlined_related(self, obj: Any) -> list[tuple[Any, str, str]] | None:
        """The related values `obj` came with (see `inline_attr`), or None when it came without."""
        return None

    def render(self, obj: Any, location: str, related: Any) -> dict[str, Any]:
        raise NotImplementedError

    def represent(self, obj: Any, selection: Selection | None = None, related: Any = None) -> dict[str, Any]:
        selection = selection or Selection()
        if related is None and selection.wants(self.related):
            related = self.inlined_related(obj)
            if related is None:
                related = self.related_values([obj.pk]).get(obj.pk, [])
        representation = self.render(obj, self.location(self.endpoint, obj.pk), related)
        return apply_selection(representation, selection, self.core_urn)

    def read_with_token(self, request: Request, url_kwargs: dict[str, Any]) -> queries.Read | None:
        """GET /Users/{id} and an IdP's lookup from the first result (`userName eq "…"`: every one Okta makes)
        read one row that the URL names: realms.sql.queries.Read, read in the token's statement. A URL
        that does not parse reads nothing ahead: the call then refuses it as usual, after authentication."""
        try:
            action = getattr(self, "action", None)  # viewsets only
            if action == "retrieve":
                pk = uuid.UUID(str(url_kwargs.get(self.lookup_url_kwarg)))
                return self._read_by_id(pk, self.selection(request).wants(self.related))
            if action == "list":
                query = self.list_query(request.query_params)
                return self._lookup_read(query, query.selection.wants(self.related)) if query.start_index == 1 else None
        except (SCIMError, ValueError, TypeError):
            return None
        return None

    def _read_by_id(self, pk: uuid.UUID, with_related: bool) -> queries.Read:
        with_groups = with_related and self.inline_attr is not None
        return queries.Read(self.model, self.model._meta.pk.name, pk, with_groups=with_groups)

    def _read_ahead(self, read: queries.Read) -> tuple[bool, Any]:
        """(True, the row or None) when the token's statement read exactly `read`; (False, None) otherwise."""
        found = getattr(self.realm, "read_with_token", None)
        if found is None or found[0] != read:
            return False, None
        return True, found[1]

    def get_object(self, resource_id: str, with_related: bool = False) -> Any:
        try:
            pk = uuid.UUID(resource_id)
        except ValueError:
            pk = None
        obj = None
        if pk is not None:
            read = self._read_by_id(pk, with_related)
            read_ahead, obj = self._read_ahead(read)
            if not read_ahead:
                obj = queries.resource(self.model, self.realm.pk, pk, with_groups=read.with_groups)
        if obj is None:
            raise NotFound(f"No {self.resource_type.lower()} with id '{resource_id[:80]}' in this realm.")
        return obj

    def lock(self, pk: uuid.UUID) -> Any:
        raise NotImplementedError

    def get_locked(self, resource_id: str) -> Any:
        """The resource, its row locked until the end of the request's transaction: a write computes its change
        from the state it will replace, so concurrent PUTs and PATCHes never lose one another's changes."""
        try:
            pk = uuid.UUID(resource_id)
        except ValueError:
            pk = None
        obj = self.lock(pk) if pk else None
        if obj is None:
            raise NotFound(f"No {self.resource_type.lower()} with id '{resource_id[:80]}' in this realm.")
        return obj

    def list_query(self, params: Any) -> ListQuery:
        """`params` parsed (parse_list_query), once per call: a lookup's filter is parsed before authentication, to
        read its row with the token (read_with_token), and its page is served from the same parse. A view instance
        serves one request, so what it keeps is that request's."""
        cached = getattr(self, "_list_query", None)
        if cached is not None and cached[0] is params:
            return cached[1]
        query = parse_list_query(params)
        self._list_query = (params, query)
        return query

    def selection(self, request: Request) -> Selection:
        """The attributes the call asks for (RFC 7644 §3.4.2.5), parsed once per call."""
        cached = getattr(self, "_selection", None)
        if cached is not None and cached[0] is request:
            return cached[1]
        params = {k: v for k, v in request.query_params.items() if "attributes" in k.lower()}
        selection = parse_list_query(params).selection
        self._selection = (request, selection)
        return selection

    def search(self, params: dict[str, Any]) -> SCIMResponse:
        query = self.list_query(params)
        wanted = query.selection.wants(self.related)
        objects = self._lookup(query, wanted)
        queryset = None
        if objects is None:
            queryset, ordering = self._filtered(query)
            unfiltered = query.filter is None and query.sort_by is None
            inline = (lambda qs: self.with_related(qs)) if wanted else None
            objects = self._page(
                queryset, ordering, query.start_index, query.count, unfiltered=unfiltered, inline=inline
            )
        if (objects and len(objects) < query.count) or (not objects and query.count and query.start_index == 1):
            total = query.start_index - 1 + len(objects)  # the last page: its end is the total, no count needed
        elif query.filter is None:
            total = self.realm_count()  # kept by database triggers: no count of the realm's rows
        else:
            total = (queryset if queryset is not None else self._filtered(query)[0]).count()
        inlined = bool(objects) and self.inlined_related(objects[0]) is not None
        related = self.related_values([o.pk for o in objects]) if objects and wanted and not inlined else {}
        resources = [
            self.represent(o, query.selection, None if inlined else related.get(o.pk, []) if wanted else None)
            for o in objects
        ]
        return SCIMResponse(list_response(resources, total, query.start_index))

    def realm_counts(self) -> Any | None:
        """The realm's RealmCounts, read with the realm; None when no user or group was ever created in it."""
        read_with_token, counts = token_query.realm_counts_read(self.realm)
        if read_with_token:
            return counts
        try:
            return self.realm.counts
        except ObjectDoesNotExist:
            return None

    def realm_count(self) -> int:
        """How many resources of this type the realm holds."""
        counts = self.realm_counts()
        return getattr(counts, self.count_attr) if counts is not None else 0

    def _filtered(self, query: ListQuery) -> tuple[Any, list[Any]]:
        """The realm's resources matching the filter, and the ordering of the page (RFC 7644 §3.4.2.2, §3.4.2.3)."""
        queryset = self.model.objects.filter(realm=self.realm)
        try:
            if query.filter is not None:
                queryset = queryset.filter(compile_filter(query.filter, self.resource_type))
            ordering = (
                compile_sort(query.sort_by, self.resource_type, descending=query.descending)
                if query.sort_by
                else ["created_at", "id"]
            )
        except FilterCompileError as exc:
            raise InvalidFilter(f"Invalid filter: {exc}.") from None
        return queryset, ordering

    def _lookup_read(self, query: ListQuery, wanted: bool) -> queries.Read | None:
        """An IdP's lookup as the read of one row: every lookup attribute is unique in the realm, so its first
        page holds at most that row."""
        field = self._lookup_field(query)
        if field is None:
            return None
        field_name, case_insensitive = field
        with_groups = wanted and self.inline_attr is not None
        return queries.Read(self.model, field_name, query.filter.value, case_insensitive, with_groups)

    def _lookup_field(self, query: ListQuery) -> tuple[str, bool] | None:
        """(column, case-insensitively) when the query is an IdP's lookup; None otherwise."""
        expr = query.filter
        if not (
            isinstance(expr, Compare)
            and expr.op == "eq"
            and isinstance(expr.value, str)
            and expr.value  # `eq ""` means "not present": another query
            and query.sort_by is None
            and query.count
            and expr.path.sub_attr is None
            and expr.path.urn in (None, self.core_urn)
            and (expr.path.attr or "").lower() in LOOKUP_ATTRIBUTES[self.resource_type]
        ):
            return None
        return LOOKUP_ATTRIBUTES[self.resource_type][expr.path.attr.lower()]

    def _lookup(self, query: ListQuery, wanted: bool) -> list[Any] | None:
        """The page of an IdP's lookup (`userName eq "…"`, `externalId eq "…"`, `displayName eq "…"`) through
        hand-written SQL (or read with the token: `read_with_token`); None for any other query (built by the ORM
        from the compiled filter)."""
        field = self._lookup_field(query)
        if field is None:
            return None
        if query.start_index == 1:
            read_ahead, obj = self._read_ahead(self._lookup_read(query, wanted))
            if read_ahead:
                return [obj] if obj is not None else []
        field_name, case_insensitive = field
        expr = query.filter
        return queries.lookup(
            self.model,
            field_name,
            expr.value,
            self.realm.pk,
            case_insensitive=case_insensitive,
            offset=query.start_index - 1,
            limit=query.count,
            with_groups=wanted and self.inline_attr is not None,
        )

    def _page(
        self, queryset: Any, ordering: list, start_index: int, count: int, *, unfiltered: bool, inline: Any = None
    ) -> list[Any]:
        """One page of the ordered results (scim.views.paging.page): an unfiltered list in the default order
        starts from where the realm's pages are known to start, while the positions in the list hold
        (RealmCounts.users_moved or groups_moved: resources created at the end of the list move none)."""
        counts = self.realm_counts() if unfiltered else None
        moved = None if counts is None else getattr(counts, f"{self.count_attr}_moved")
        known = None if moved is None else (queryset.model._meta.label, self.realm.pk, moved)
        return paging.page(queryset, ordering, start_index, count, known=known, inline=inline)

    def search_request(self, request: Request) -> SCIMResponse:
        """POST /.search (RFC 7644 §3.4.3): the query in a SearchRequest body; needs the view permission."""
        body = request.data
        if not isinstance(body, dict):
            raise InvalidValue("The .search body must be a SearchRequest object.", scim_type="invalidSyntax")
        return self.search({k: v for k, v in body.items() if k != "schemas"})

    def get_one(self, request: Request, resource_id: str) -> SCIMResponse:
        selection = self.selection(request)
        obj = self.get_object(resource_id, with_related=selection.wants(self.related))
        if not_modified(request, obj.version):
            return with_etag(SCIMResponse(status=304), obj.version)
        return with_etag(SCIMResponse(self.represent(obj, selection)), obj.version)
