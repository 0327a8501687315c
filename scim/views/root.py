"""POST /.search at the SCIM root (RFC 7644 §3.4.3): one query across the resource types, Users then Groups.

It is the query of `/Users/.search` and `/Groups/.search` (filter, sortBy/sortOrder, startIndex/count,
attributes/excludedAttributes), answered by those endpoints' own search (ResourceMixin.search), type after type:

- Order: every matching user, then every matching group, each type in its own order (sortBy, or creation time then
  id), so the concatenation is stable and pages never overlap or skip. sortBy sorts within each type; a merged
  order across two tables would cost reading every page before the one asked for.
- Paging: `startIndex` and `count` are positions in that concatenation; `totalResults` is the sum of each type's
  total (each counted as /Users and /Groups count it, no row read for that).
- Filters: a filter naming attributes only the other type defines applies to the type that defines them
  (scim.filters.scope): `userName eq "x"` finds users only, `members.value eq "<id>"` groups only. A type for which
  the filter can match nothing is not queried at all. A sortBy on an attribute only the other type has leaves
  this type in its default order.
- Permissions: each type is searched only when the token's account may view it (realms.view_realmuser,
  realms.view_realmgroup, decided by SCIMPermission as for /Users/.search and /Groups/.search); a token that may
  view neither gets a 403. Results are what the token could have found type by type, nothing more: the root
  search reveals nothing the type endpoints would not.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from ..errors import InvalidSyntax
from ..filters import to_string
from ..filters.scope import applies_to, scope_filter
from ..permissions import SCIMPermission
from ..responses import SCIMResponse
from .base import SCIMView
from .groups import GroupViewSet
from .parsing import list_response, parse_list_query
from .reads import ResourceMixin
from .users import UserViewSet

# The types of a root search, in the order of its results.
SEARCHED = (UserViewSet, GroupViewSet)
# The parameters each type's search gets from the root's query, rather than as sent.
_PER_TYPE = {"filter", "startindex", "count", "sortby", "sortorder"}


class _ViewOf:
    """What SCIMPermission looks at on a view: the model, and that the call is a search (view permission)."""

    is_search = True

    def __init__(self, scim_model: str) -> None:
        self.scim_model = scim_model


class RootSearchView(SCIMView):
    """POST /.search at the SCIM root (RFC 7644 §3.4.3); any other method is a 405. The permission to call it is
    any one of the SCIM permissions (as for discovery); which types it searches is decided per type."""

    def post(self, request: Request, realm_pk) -> SCIMResponse:
        body = request.data
        if not isinstance(body, dict):
            raise InvalidSyntax("The .search body must be a SearchRequest object.")
        params = {key: value for key, value in body.items() if key != "schemas"}
        query = parse_list_query(params)  # every parameter checked once, before any type is searched
        searched = [viewset for viewset in SEARCHED if self._may_view(viewset)]
        if not searched:
            raise PermissionDenied(
                f"The account '{request.user.get_username()}' of this API token may view neither users nor groups "
                "(realms.view_realmuser, realms.view_realmgroup): there is nothing it can search."
            )
        common = {key: value for key, value in params.items() if key.lower() not in _PER_TYPE}
        filter_text = next((value for key, value in params.items() if key.lower() == "filter"), None)
        resources: list[dict[str, Any]] = []
        total = 0
        for viewset in searched:
            searcher = self._searcher(viewset)
            scoped = True if query.filter is None else scope_filter(query.filter, searcher.resource_type)
            if scoped is False:
                continue  # no resource of this type can match: no query
            type_params = {
                **common,
                # Positions in the concatenation, made positions in this type's own results.
                "startIndex": max(1, query.start_index - total),
                "count": query.count - len(resources),
            }
            if scoped is not True:
                type_params["filter"] = filter_text if scoped is query.filter else to_string(scoped)
            if query.sort_by is not None and applies_to(query.sort_by, searcher.resource_type):
                type_params["sortBy"] = to_string(query.sort_by)
                type_params["sortOrder"] = "descending" if query.descending else "ascending"
            page = searcher.search(type_params).data
            total += page["totalResults"]
            resources.extend(page["Resources"])
        return SCIMResponse(list_response(resources, total, query.start_index))

    def _may_view(self, viewset: type[ResourceMixin]) -> bool:
        return SCIMPermission().has_permission(self.request, _ViewOf(viewset.scim_model))

    def _searcher(self, viewset: type[SCIMView]) -> Any:
        """The type's own endpoint, on this request's realm and root URL, to call its search."""
        searcher = viewset(request=self.request, args=self.args, kwargs=self.kwargs, format_kwarg=None)
        searcher.realm = self.realm
        searcher.root_url = self.root_url
        return searcher


__all__ = ["RootSearchView"]
