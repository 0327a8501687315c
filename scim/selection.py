"""The `attributes` and `excludedAttributes` parameters (RFC 7644 §3.4.2.5, §3.9).

Applied to a rendered resource: `id` and `schemas` are always returned (RFC 7643 §3.1: id is "returned always"),
`password` never exists in a representation. Paths may carry a sub-attribute (`name.givenName`, `emails.value`)
or a schema URN prefix (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`), and a bare
extension URN selects the whole extension.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .errors import InvalidValue
from .filters import AttrPath, FilterSyntaxError, parse_attr_path

ALWAYS_RETURNED = {"id", "schemas"}
MAX_PATHS = 100


@dataclass(frozen=True)
class Selection:
    include: tuple[AttrPath, ...] | None = None
    exclude: tuple[AttrPath, ...] = ()

    def wants(self, name: str) -> bool:
        """Whether the top-level attribute `name` (any schema) is returned; lets views skip loading it."""
        lowered = name.lower()
        if self.include is not None:
            return any((p.attr or "").lower() == lowered for p in self.include)
        return not any((p.attr or "").lower() == lowered and p.sub_attr is None for p in self.exclude)


def _parse_list(value: str | None, parameter: str) -> tuple[AttrPath, ...] | None:
    if value is None:
        return None
    items = [item for item in value.split(",") if item.strip()]
    if len(items) > MAX_PATHS:
        raise InvalidValue(f"'{parameter}' lists more than {MAX_PATHS} attributes.")
    paths = []
    for item in items:
        try:
            paths.append(parse_attr_path(item, max_length=512))
        except FilterSyntaxError as exc:
            raise InvalidValue(f"Invalid attribute in '{parameter}': {exc}.") from None
    return tuple(paths)


def parse_selection(attributes: str | None, excluded: str | None) -> Selection:
    include = _parse_list(attributes, "attributes")
    exclude = _parse_list(excluded, "excludedAttributes") or ()
    if include is not None and not include:
        include = None
    return Selection(include=include, exclude=exclude)


def find_key(container: dict[str, Any], name: str) -> str | None:
    """The key of `container` naming `name`, in any letter case (RFC 7643 §2.1: attribute names are
    case-insensitive), or None."""
    lowered = name.lower()
    for key in container:
        if key.lower() == lowered:
            return key
    return None


def _locate(resource: dict[str, Any], path: AttrPath, core_urn: str) -> tuple[dict[str, Any], str | None] | None:
    """The dict holding the path's attribute, and the attribute's actual key (None: the whole extension)."""
    if path.urn is None or path.urn.lower() == core_urn.lower():
        if path.attr is None:
            return None
        return resource, find_key(resource, path.attr)
    urn_key = find_key(resource, path.urn)
    if urn_key is None or not isinstance(resource[urn_key], dict):
        return None
    if path.attr is None:
        return resource, urn_key
    return resource[urn_key], find_key(resource[urn_key], path.attr)


def _copy_path(source: dict[str, Any], target: dict[str, Any], path: AttrPath, core_urn: str) -> None:
    located = _locate(source, path, core_urn)
    if located is None or located[1] is None:
        return
    holder, key = located
    if holder is source:
        target_holder = target
    else:
        urn_key = find_key(source, path.urn or "")
        target_holder = target.setdefault(urn_key, {})
    value = holder[key]
    if path.sub_attr is None or path.attr is None:
        target_holder[key] = copy.deepcopy(value)
        return
    if isinstance(value, dict):
        sub_key = find_key(value, path.sub_attr)
        if sub_key is not None:
            target_holder.setdefault(key, {})[sub_key] = copy.deepcopy(value[sub_key])
    elif isinstance(value, list):
        existing = target_holder.get(key)
        items = existing if isinstance(existing, list) and len(existing) == len(value) else [{} for _ in value]
        for item, out in zip(value, items, strict=True):
            if isinstance(item, dict):
                sub_key = find_key(item, path.sub_attr)
                if sub_key is not None:
                    out[sub_key] = copy.deepcopy(item[sub_key])
        target_holder[key] = items


def _remove_path(resource: dict[str, Any], path: AttrPath, core_urn: str) -> None:
    located = _locate(resource, path, core_urn)
    if located is None or located[1] is None:
        return
    holder, key = located
    if holder is resource and key in ALWAYS_RETURNED:
        return
    if path.sub_attr is None or path.attr is None:
        del holder[key]
        return
    value = holder[key]
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict):
            sub_key = find_key(item, path.sub_attr)
            if sub_key is not None:
                del item[sub_key]


def apply_selection(resource: dict[str, Any], selection: Selection, core_urn: str) -> dict[str, Any]:
    if selection.include is not None:
        result = {key: resource[key] for key in ("schemas", "id") if key in resource}
        for path in selection.include:
            _copy_path(resource, result, path, core_urn)
        # Keep the representation's order (schemas, id, …, meta) for readability.
        return {key: result[key] for key in resource if key in result}
    if not selection.exclude:
        return resource
    result = copy.deepcopy(resource)
    for path in selection.exclude:
        _remove_path(result, path, core_urn)
    return result
