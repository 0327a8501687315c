"""What every SCIM view shares: token authentication, permissions, media types, errors, the realm, paging."""

from __future__ import annotations

import bisect
import re
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q
from django.http import HttpRequest
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSetMixin

from realms import queries, urls_helpers
from realms.models import Realm
from realms.services import Actor

from .. import request_log
from ..authentication import SCIMTokenAuthentication
from ..conf import app_settings
from ..errors import (
    InvalidFilter,
    InvalidSyntax,
    InvalidValue,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    SCIMError,
    scim_exception_handler,
)
from ..filters import Compare, FilterSyntaxError, parse_attr_path, parse_filter
from ..filters.compiler import FilterCompileError, compile_filter, compile_sort
from ..negotiation import PlainJSONParser, SCIMContentNegotiation, SCIMJSONParser, SCIMRenderer, unstorable
from ..permissions import SCIMPermission
from ..selection import Selection, apply_selection, parse_selection
from ..throttling import TokenRateThrottle

NO_REALM = "No realm with SCIM enabled at this URL: check the SCIM connector base URL."


class SCIMView(APIView):
    authentication_classes = [SCIMTokenAuthentication]
    permission_classes = [SCIMPermission]
    renderer_classes = [SCIMRenderer]
    parser_classes = [SCIMJSONParser, PlainJSONParser]
    content_negotiation_class = SCIMContentNegotiation
    throttle_classes = [TokenRateThrottle]
    # SCIM has no API versions of DRF's kind: a host's DEFAULT_VERSIONING_CLASS with ALLOWED_VERSIONS would refuse
    # every request of Okta, which sends none (406).
    versioning_class = None
    scim_model: str | None = None  # "realmuser" / "realmgroup"; None for discovery
    is_search = False

    realm: Realm

    def get_exception_handler(self):
        return scim_exception_handler

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        realm_pk = kwargs.get("realm_pk")
        if isinstance(realm_pk, uuid.UUID):
            # The Django request (DRF's documented `request._request`): it carries `auth` only once a token was
            # authenticated, so recording never triggers authentication itself.
            request_log.record(request._request, response, realm_pk)
        return response

    def initial(self, request: Request, *args, **kwargs) -> None:
        # What the call will read, when its URL alone says so: the token's statement reads it too (one round trip
        # fewer), and it is used only once the token and the permission have been checked.
        request.scim_read = self.read_with_token(request, kwargs)
        super().initial(request, *args, **kwargs)  # authentication (401), permissions (403)
        self._check_body_size(request)
        realm = getattr(request.successful_authenticator, "realm", None)  # read with the token
        if realm is None:
            raise NotFound(NO_REALM)
        self.realm = realm
        token_realm = getattr(request.auth, "realm_id", None)
        if token_realm is not None and token_realm != realm.pk:
            # A token restricted to another realm learns nothing about this one, not even that it exists.
            raise NotFound(NO_REALM)
        if not self._handles(request.method):
            # Before the body is looked at: a method this endpoint does not serve is a 405 with its Allow header
            # (RFC 7231 §6.5.5), body or not; DRF itself would only find out after `initial`.
            raise MethodNotAllowed(request.method or "")
        if request.method in {"POST", "PUT", "PATCH"} and not self._has_body(request):
            raise InvalidSyntax("The request body is empty; a JSON object was expected.")
        check_url_and_headers(request, kwargs)
        self.root_url = urls_helpers.scim_root_url(realm.pk, request)

    def read_with_token(self, request: Request, url_kwargs: dict[str, Any]) -> queries.Read | None:
        """The realm user or group this call will read, if its URL says which before anything is checked; None
        here (see ResourceMixin)."""
        return None

    def _handles(self, method: str | None) -> bool:
        """Whether this view has a handler for `method` (on a viewset: an action the router mapped it to), as DRF's
        dispatch decides it."""
        name = (method or "").lower()
        return name in self.http_method_names and hasattr(self, name)

    @staticmethod
    def _content_length(request: Request) -> int | None:
        """The declared body length; None when the header is not a number."""
        try:
            return int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None

    def _check_body_size(self, request: Request) -> None:
        limit = app_settings.MAX_BODY_BYTES
        length = self._content_length(request) or 0
        if length > limit:
            raise PayloadTooLarge(f"The request body is {length} bytes; the limit is {limit} bytes.")

    def _has_body(self, request: Request) -> bool:
        length = self._content_length(request)
        return length is None or length > 0 or "HTTP_TRANSFER_ENCODING" in request.META

    def actor(self) -> Actor:
        token = self.request.auth
        return Actor(user=self.request.user, token_hint=getattr(token, "hint", ""))

    def location(self, endpoint: str, resource_id: Any = None) -> str:
        return f"{self.root_url}/{endpoint}" + (f"/{resource_id}" if resource_id is not None else "")


class SCIMViewSet(ViewSetMixin, SCIMView):
    """A SCIM endpoint registered on `scim.routers.SCIMRouter`: its handlers are named after the actions the router
    maps HTTP methods to (list, create, retrieve, update, partial_update, destroy; RFC 7644 §3.2), and everything
    else (authentication, the realm, permissions, errors, the request log) is SCIMView's."""

    # The router matches an id up to the next slash, dots included (DRF's default stops at a dot): URNs have dots
    # (/Schemas/urn:…:core:2.0:User), and an id that is not one of ours gets the resource's own 404, not the
    # catch-all's.
    lookup_value_regex = "[^/]+"


# ------------------------------------------------------------------------------------------ the URL and headers

# The request headers this server reads values from (RFC 7644 §3.14); the others are never looked at.
READ_HEADERS = ("If-Match", "If-None-Match")


def check_url_and_headers(request: Request, url_kwargs: dict[str, Any]) -> None:
    """Refuse, with a 400 naming the problem (RFC 7644 §3.12), what no database can store or search for (a NUL
    character, a lone surrogate) in the ids of the path, in the query parameters (names and values) and in the
    headers read: the one check of the URL and headers, before any value from them reaches a query. Bodies are
    checked as they are parsed (scim.negotiation.check_storable); string literals of filters and PATCH paths,
    which only exist once decoded, where they are decoded (scim.filters.lexer)."""
    for name, value in url_kwargs.items():
        reason = unstorable(value) if isinstance(value, str) else None
        if reason is not None:
            raise InvalidValue(f"The {name.replace('_', ' ')} in the URL contains {reason}.")
    for key, values in request.query_params.lists():
        reason = unstorable(key)
        if reason is not None:
            raise InvalidValue(f"A query parameter name contains {reason}.")
        for value in values:
            reason = unstorable(value)
            if reason is not None:
                error = InvalidFilter if key.lower() == "filter" else InvalidValue
                raise error(f"The '{key}' query parameter contains {reason}.")
    for header in READ_HEADERS:
        reason = unstorable(request.headers.get(header) or "")
        if reason is not None:
            raise InvalidValue(f"The {header} header contains {reason}.")


# ------------------------------------------------------------------------------------------ query parameters


@dataclass(frozen=True)
class ListQuery:
    """The parameters of a list or .search request (RFC 7644 §3.4.2, §3.4.3)."""

    filter: Any
    start_index: int
    count: int
    sort_by: Any
    descending: bool
    selection: Selection


def _parse_int(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidValue(f"'{name}' must be an integer.")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d{1,18}\s*", value):
        return int(value)
    raise InvalidValue(f"'{name}' must be an integer, not {str(value)[:40]!r}.")


def _as_csv(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    if isinstance(value, str):
        return value
    raise InvalidValue(f"'{name}' must be a list of attribute names.")


def parse_list_query(params: dict[str, Any]) -> ListQuery:
    """Parse and check paging, filter, sort and attribute selection; clamp what the RFC says to clamp."""
    lowered = {k.lower(): v for k, v in params.items()}
    filter_text = lowered.get("filter")
    expr = None
    if filter_text is not None:
        if not isinstance(filter_text, str):
            raise InvalidFilter("'filter' must be a string.")
        if filter_text.strip():
            try:
                expr = parse_filter(
                    filter_text,
                    max_length=app_settings.MAX_FILTER_LENGTH,
                    max_depth=app_settings.MAX_FILTER_DEPTH,
                )
            except FilterSyntaxError as exc:
                raise InvalidFilter(f"Invalid filter: {exc}.") from None
    # RFC 7644 §3.4.2.4: a startIndex below 1 is 1; a negative count is 0; count above the maximum is capped.
    start_index = max(1, _parse_int(lowered.get("startindex"), "startIndex") or 1)
    count = _parse_int(lowered.get("count"), "count")
    count = app_settings.DEFAULT_COUNT if count is None else max(0, count)
    count = min(count, app_settings.MAX_COUNT)
    sort_by = None
    sort_text = lowered.get("sortby")
    if sort_text is not None:
        if not isinstance(sort_text, str):
            raise InvalidValue("'sortBy' must be an attribute name.")
        try:
            sort_by = parse_attr_path(sort_text, max_length=512) if sort_text.strip() else None
        except FilterSyntaxError as exc:
            raise InvalidValue(f"Invalid sortBy: {exc}.") from None
    sort_order = lowered.get("sortorder")
    if sort_order is not None and (
        not isinstance(sort_order, str) or sort_order.lower() not in {"ascending", "descending"}
    ):
        raise InvalidValue("'sortOrder' must be 'ascending' or 'descending'.")
    selection = parse_selection(
        _as_csv(lowered.get("attributes"), "attributes"),
        _as_csv(lowered.get("excludedattributes"), "excludedAttributes"),
    )
    return ListQuery(
        filter=expr,
        start_index=start_index,
        count=count,
        sort_by=sort_by,
        descending=isinstance(sort_order, str) and sort_order.lower() == "descending",
        selection=selection,
    )


def asks_for_attributes(request: Request) -> bool:
    """Whether the request names attributes to return (RFC 7644 §3.4.2.5: `attributes` or `excludedAttributes`, in
    any letter case, even empty): a write may then not answer 204, it must return what they select."""
    return any(key.lower() in {"attributes", "excludedattributes"} for key in request.query_params)


def list_response(resources: list[dict], total: int, start_index: int) -> dict[str, Any]:
    """RFC 7644 §3.4.2: ListResponse, with integer paging fields and itemsPerPage the number returned."""
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


# ------------------------------------------------------------------------------------------ ETags (RFC 7644 §3.14)


_ETAG_RE = re.compile(r'\s*(?:W/)?"?([0-9]{1,18})"?\s*')


def _versions(header: str) -> set[int] | None:
    """The versions an If-Match/If-None-Match header names; None for '*'. Unparsable tags match nothing."""
    if header.strip() == "*":
        return None
    versions = set()
    for part in header.split(","):
        match = _ETAG_RE.fullmatch(part)
        if match:
            versions.add(int(match.group(1)))
    return versions


def if_match_version(request: HttpRequest, current: int) -> int | None:
    """Check If-Match before a write; return the version the write must still find (checked under lock)."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    versions = _versions(header)
    if versions is None:
        return None
    if current not in versions:
        raise PreconditionFailed(f'If-Match does not match the current version W/"{current}".')
    return current


def if_match_holds(request: HttpRequest, current: int) -> bool:
    """Whether a write may go on at version `current`: no If-Match, `*`, or a tag of that version."""
    header = request.headers.get("If-Match")
    if header is None:
        return True
    versions = _versions(header)
    return versions is None or current in versions


def not_modified(request: HttpRequest, current: int) -> bool:
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    versions = _versions(header)
    return versions is None or current in versions


def with_etag(response: Response, version: int) -> Response:
    response["ETag"] = f'W/"{version}"'
    return response


# ------------------------------------------------------------------------------------------ resources


# The attributes IdPs look resources up by before creating them (docs/idp-notes: Okta's userName, Entra's
# externalId, both IdPs' group displayName): equality on them is served by hand-written SQL (realms/queries.py),
# with the column and the caseExact of RFC 7643 (userName §4.1.1 and a Group's displayName §4.2: caseExact false,
# compared lower-cased like the filter compiler does; externalId §3.1: caseExact true).
LOOKUP_ATTRIBUTES: dict[str, dict[str, tuple[str, bool]]] = {
    "User": {"username": ("username", True), "externalid": ("external_id", False)},
    "Group": {"displayname": ("display_name", True), "externalid": ("external_id", False)},
}


class _PageStarts:
    """Where the pages of a realm's unfiltered lists start, in this process: for (model, realm, changes), the
    (created_at, id) of the n-th resource in the default order, for the positions n pages have ended at.
    `changes` is RealmCounts.changes, which moves with every insert and delete in the realm: positions are only
    found while they still hold. Bounded: the most recently used lists, each of a bounded number of positions."""

    def __init__(self, lists: int, positions: int) -> None:
        self.lists, self.positions = lists, positions
        self._lists: OrderedDict[tuple, tuple[list[int], dict[int, tuple]]] = OrderedDict()
        self._lock = threading.Lock()

    def nearest(self, key: tuple, position: int) -> tuple[int, tuple | None]:
        """The known position closest before or at `position` and its (created_at, id); (0, None) if none."""
        with self._lock:
            found = self._lists.get(key)
            if found is None:
                return 0, None
            self._lists.move_to_end(key)
            positions, keys = found
            i = bisect.bisect_right(positions, position)
            return (positions[i - 1], keys[positions[i - 1]]) if i else (0, None)

    def put(self, key: tuple, position: int, value: tuple) -> None:
        with self._lock:
            positions, keys = self._lists.setdefault(key, ([], {}))
            self._lists.move_to_end(key)
            if position not in keys:
                if len(positions) >= self.positions:  # full: start this list again
                    positions.clear()
                    keys.clear()
                bisect.insort(positions, position)
            keys[position] = value
            while len(self._lists) > self.lists:
                self._lists.popitem(last=False)


_PAGE_STARTS = _PageStarts(lists=16, positions=2048)  # at most about 9 MiB per worker (measured)


def _after(position: tuple) -> Q:
    """Resources after (created_at, id) in the default order: `(created_at, id) > position`, written so that the
    first condition alone is a range of the (realm, created_at, id) index and the rest only drops the ties."""
    created_at, pk = position
    return Q(created_at__gte=created_at) & (Q(created_at__gt=created_at) | Q(pk__gt=pk))


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
        read one row that the URL names: realms.queries.Read, read in the token's statement on PostgreSQL. A URL
        that does not parse reads nothing ahead: the call then refuses it as usual, after authentication."""
        try:
            action = getattr(self, "action", None)  # viewsets only
            if action == "retrieve":
                pk = uuid.UUID(str(url_kwargs.get(self.lookup_url_kwarg)))
                return self._read_by_id(pk, self.selection(request).wants(self.related))
            if action == "list":
                query = parse_list_query(request.query_params)
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

    def selection(self, request: Request) -> Selection:
        params = {k: v for k, v in request.query_params.items() if "attributes" in k.lower()}
        return parse_list_query(params).selection

    def search(self, params: dict[str, Any]) -> Response:
        query = parse_list_query(params)
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
        return Response(list_response(resources, total, query.start_index))

    def realm_counts(self) -> Any | None:
        """The realm's RealmCounts, read with the realm; None when no user or group was ever created in it."""
        if hasattr(self.realm, "counts_or_none"):  # read with the token (realms/token_query.py)
            return self.realm.counts_or_none
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
        """One page of the ordered results (RFC 7644 §3.4.2.4), in one query.

        Past the first page of an unfiltered list in the default order, the page's ids are picked first from the
        (realm, created_at, id) index and only those rows are read: a deep page skips index entries, not rows.
        Better still, where pages start and end is remembered (_PAGE_STARTS) while the realm's users and groups
        stay the same: a page then starts from the nearest known position before it (a keyset range of the
        index), so the next page of an import, or a page asked again, skips nothing, and a page near one already
        served skips only the rows between.
        """
        if not count:
            return []
        start = start_index - 1

        def inlined(qs: Any) -> Any:
            annotated = inline(qs) if inline is not None else None
            return qs if annotated is None else annotated  # never `or`: a QuerySet's truth value runs it

        def rows(ids: Any) -> list[Any]:
            return list(inlined(queryset.model.objects.filter(pk__in=ids)).order_by(*ordering))

        counts = self.realm_counts() if unfiltered else None
        known = None if counts is None else (queryset.model._meta.label, self.realm.pk, counts.changes)
        if not unfiltered or not start:
            objects = list(inlined(queryset).order_by(*ordering)[start : start + count])
        else:
            # From the nearest known position before the page (the start of the list if none): skip only the
            # rows between, plus one row more, the one before the page, which says where the page starts.
            position, after = _PAGE_STARTS.nearest(known, start) if known else (0, None)
            ids = (queryset if after is None else queryset.filter(_after(after))).order_by(*ordering).values("pk")
            skip = start - position
            if not skip:
                objects = rows(ids[:count])
            else:
                objects = rows(ids[skip - 1 : skip + count])
                if known and objects:
                    _PAGE_STARTS.put(known, start, (objects[0].created_at, objects[0].pk))
                objects = objects[1:]
        if known and objects:
            _PAGE_STARTS.put(known, start + len(objects), (objects[-1].created_at, objects[-1].pk))
        return objects

    def search_request(self, request: Request) -> Response:
        """POST /.search (RFC 7644 §3.4.3): the query in a SearchRequest body; needs the view permission."""
        body = request.data
        if not isinstance(body, dict):
            raise InvalidValue("The .search body must be a SearchRequest object.", scim_type="invalidSyntax")
        return self.search({k: v for k, v in body.items() if k != "schemas"})

    def get_one(self, request: Request, resource_id: str) -> Response:
        selection = self.selection(request)
        obj = self.get_object(resource_id, with_related=selection.wants(self.related))
        if not_modified(request, obj.version):
            return with_etag(Response(status=304), obj.version)
        return with_etag(Response(self.represent(obj, selection)), obj.version)
