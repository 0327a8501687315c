"""Parse: what a SCIM call's URL, headers and list parameters say, checked before any value reaches a query.

The URL's ids, the query parameters and the headers read (`check_url_and_headers`), and the parameters of a list or
`.search` (`parse_list_query`: filter, paging, sortBy, attributes, RFC 7644 §3.4.2); the ListResponse they are
answered with. Bodies are parsed by scim.negotiation and normalised by scim.resources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rest_framework.request import Request

from ..conf import app_settings
from ..errors import InvalidFilter, InvalidValue
from ..filters import FilterSyntaxError, parse_attr_path, parse_filter
from ..negotiation import unstorable
from ..selection import Selection, parse_selection
from .etags import IF_MATCH, IF_NONE_MATCH

# The request headers this server reads values from (RFC 7644 §3.14), with their keys in `request.META`; the others
# are never looked at.
READ_HEADERS = {"If-Match": IF_MATCH, "If-None-Match": IF_NONE_MATCH}


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
    for header, meta_key in READ_HEADERS.items():
        reason = unstorable(request.META.get(meta_key) or "")
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
