"""The PATCH engine (RFC 7644 §3.5.2): operations applied to a copy of the resource, all or nothing.

Every operation of a request is applied in memory to a copy of the resource's attributes; the result is then
normalised and validated like a PUT and stored in one transaction, so a failing operation leaves nothing changed.
Group membership is the exception: members are never loaded; `members` operations accumulate into one
MembershipChange (ids to add and remove), applied by the service in time proportional to the change.

IdP quirks handled here, each in a named helper: Okta's path-less `replace` with an object value (and the `id` it
echoes inside it), Entra ID's capitalised op names, its boolean strings, its path-less values keyed by attribute
paths (`"name.givenName": …`), its `add`/`replace` on a filtered path that matches nothing
(`emails[type eq "work"].value` for a user without a work email) and its member removal by value list.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from realms.services import MembershipChange

from . import schemas as S
from .errors import InvalidFilter, InvalidPath, InvalidSyntax, InvalidValue, Mutability, NoTarget, TooMany
from .filters import And, AttrPath, Compare, FilterSyntaxError, Not, Or, PatchPath, Present, ValuePath, parse_patch_path
from .resources import parse_member_id, parse_members
from .selection import find_key

MAX_OPERATIONS = 1000
READ_ONLY = {"id", "meta", "schemas", "groups"}
OPS = {"add", "remove", "replace"}


def operations_of(body: Any) -> list[dict[str, Any]]:
    """The `Operations` of a PatchOp body (RFC 7644 §3.5.2), checked for shape before anything is applied."""
    if not isinstance(body, dict):
        raise InvalidSyntax("The PATCH body must be a JSON object with 'schemas' and 'Operations'.")
    schemas = body.get("schemas")
    if schemas is not None and (
        not isinstance(schemas, list)
        or not any(isinstance(s, str) and s.lower() == S.PATCH_OP_URN.lower() for s in schemas)
    ):
        raise InvalidValue(f"A PATCH body's 'schemas' must be [\"{S.PATCH_OP_URN}\"].", scim_type="invalidSyntax")
    key = find_key(body, "Operations")
    operations = body.get(key) if key else None
    if not isinstance(operations, list) or not operations:
        raise InvalidSyntax("The PATCH body needs 'Operations', a non-empty list of operations.")
    if len(operations) > MAX_OPERATIONS:
        raise TooMany(f"A PATCH request may hold at most {MAX_OPERATIONS} operations, not {len(operations)}.")
    checked = []
    for index, operation in enumerate(operations, start=1):
        if not isinstance(operation, dict):
            raise InvalidSyntax(f"Operation {index} must be an object with 'op', and 'path' and/or 'value'.")
        op_key = find_key(operation, "op")
        op = operation.get(op_key) if op_key else None
        # Entra ID capitalises op names ("Replace", "Add", "Remove"): op names are case-insensitive.
        if not isinstance(op, str) or op.strip().lower() not in OPS:
            raise InvalidSyntax(f"Operation {index}: 'op' must be add, remove or replace, not {op!r}.")
        path_key = find_key(operation, "path")
        path = operation.get(path_key) if path_key else None
        if path is not None and not isinstance(path, str):
            raise InvalidPath(f"Operation {index}: 'path' must be a string.")
        value_key = find_key(operation, "value")
        checked.append(
            {
                "index": index,
                "op": op.strip().lower(),
                "path": path.strip() if isinstance(path, str) and path.strip() else None,
                "has_value": value_key is not None,
                "value": operation.get(value_key) if value_key else None,
            }
        )
    return checked


# ---------------------------------------------------------------------------------------- value filters


def _as_comparable(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in {"true", "false"}:  # Entra ID's boolean strings
            return lowered == "true"
        return lowered
    return value


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if op == "eq":
        return _as_comparable(actual) == _as_comparable(expected)
    if op == "ne":
        return _as_comparable(actual) != _as_comparable(expected)
    if actual is None:
        return False
    if op in {"co", "sw", "ew"}:
        if not isinstance(actual, str) or not isinstance(expected, str):
            return False
        a, e = actual.lower(), expected.lower()
        return e in a if op == "co" else a.startswith(e) if op == "sw" else a.endswith(e)
    a, e = _as_comparable(actual), _as_comparable(expected)
    # A filter's number with a fraction or an exponent is a Decimal (scim.filters.lexer): a number like the rest.
    both_numbers = all(isinstance(x, int | float | Decimal) and not isinstance(x, bool) for x in (a, e))
    if not both_numbers and not (isinstance(a, str) and isinstance(e, str)):
        return False  # ordering is defined for numbers and strings only
    if op == "gt":
        return a > e
    if op == "ge":
        return a >= e
    if op == "lt":
        return a < e
    return a <= e


def matches(expr: Any, element: Any) -> bool:
    """Whether one value of a multi-valued attribute matches a value filter (`type eq "work"`), in memory.

    This only ever looks at the values of one resource being patched; filters over resources run in the database.
    """
    if isinstance(expr, And):
        return matches(expr.left, element) and matches(expr.right, element)
    if isinstance(expr, Or):
        return matches(expr.left, element) or matches(expr.right, element)
    if isinstance(expr, Not):
        return not matches(expr.expr, element)
    if isinstance(expr, Compare | Present):
        path: AttrPath = expr.path
        if isinstance(element, dict):
            key = find_key(element, path.attr or "")
            actual = element.get(key) if key else None
            if path.sub_attr is not None:
                actual = actual.get(find_key(actual, path.sub_attr) or "") if isinstance(actual, dict) else None
        else:
            actual = element if (path.attr or "").lower() == "value" else None
        if isinstance(expr, Present):
            return actual not in (None, "", [], {})
        return _compare(actual, expr.op, expr.value)
    if isinstance(expr, ValuePath):
        raise InvalidFilter("A value filter cannot contain another value filter.")
    return False


def _element_from_filter(expr: Any) -> dict[str, Any] | None:
    """Entra ID quirk: `add`/`replace` of `emails[type eq "work"].value` on a user without a work email means
    "create that email". Only a conjunction of `eq` comparisons describes a value that can be created."""
    if isinstance(expr, Compare) and expr.op == "eq" and expr.path.sub_attr is None and expr.path.attr:
        return {expr.path.attr: expr.value}
    if isinstance(expr, And):
        left, right = _element_from_filter(expr.left), _element_from_filter(expr.right)
        if left is not None and right is not None:
            return {**left, **right}
    return None


# ---------------------------------------------------------------------------------------- targets


@dataclass
class _Target:
    container: dict[str, Any]
    key: str | None  # None: the path names a whole extension (bare schema URN)
    attribute: S.Attribute | None
    sub_attr: str | None


def _resolve(
    document: dict[str, Any], attr: AttrPath, core: S.Schema, extensions: tuple[S.Schema, ...], create: bool
) -> _Target | None:
    urn = attr.urn
    if urn is not None and urn.lower() == core.id.lower():
        urn = None
    if attr.attr is None:  # a bare extension URN: the whole extension object
        extension = next((e for e in extensions if e.id.lower() == (urn or "").lower()), None)
        key = extension.id if extension else find_key(document, urn or "") or urn
        return _Target(document, key, None, None)
    found = S.find_attribute(core, extensions, urn, attr.attr)
    if urn is None:
        container = document
        if found is not None and found[0] is not None and found[0].id != core.id:
            # an extension attribute named without its URN
            container = document.setdefault(found[0].id, {}) if create else document.get(found[0].id)
    else:
        extension = next((e for e in extensions if e.id.lower() == urn.lower()), None)
        urn_key = extension.id if extension else (find_key(document, urn) or urn)
        container = document.get(urn_key)
        if container is None and create:
            container = document[urn_key] = {}
    if not isinstance(container, dict):
        return None
    attribute = found[1] if found else None
    if attribute is not None and attribute.name.lower() in READ_ONLY | {"password"} and urn is None:
        raise Mutability(f"'{attribute.name}' is read-only and cannot be modified.")
    if attribute is not None and attribute.mutability == "readOnly":
        raise Mutability(f"'{attribute.name}' is read-only and cannot be modified.")
    key = attribute.name if attribute is not None else (find_key(container, attr.attr) or attr.attr)
    existing = find_key(container, key)
    if existing is not None and existing != key:
        container[key] = container.pop(existing)
    sub = attr.sub_attr
    if sub is not None and attribute is not None and attribute.type == "complex":
        sub_def = attribute.sub_attribute(sub)
        if sub_def is not None:
            if sub_def.mutability == "readOnly":
                raise Mutability(f"'{attribute.name}.{sub_def.name}' is read-only and cannot be modified.")
            sub = sub_def.name
    elif sub is not None and attribute is not None:
        raise InvalidPath(f"'{attribute.name}' has no sub-attributes; '{attr}' is not a valid path.")
    return _Target(container, key, attribute, sub)


def _is_multi(target: _Target) -> bool:
    if target.attribute is not None:
        return target.attribute.multi_valued
    return isinstance(target.container.get(target.key), list)


def _is_complex(target: _Target, value: Any) -> bool:
    if target.attribute is not None:
        return target.attribute.type == "complex"
    return isinstance(value, dict) and isinstance(target.container.get(target.key), dict)


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _clear_other_primaries(values: list[Any], keep: list[Any]) -> None:
    """RFC 7643 §2.4: at most one value of a multi-valued attribute is primary; the newest one wins."""
    if any(isinstance(v, dict) and v.get("primary") in (True, "true", "True") for v in keep):
        for value in values:
            if isinstance(value, dict) and value not in keep and value.get("primary") is not None:
                value["primary"] = False


# ---------------------------------------------------------------------------------------- operations


@dataclass
class _MembershipAccumulator:
    """Membership operations in request order, folded into one change (add then remove cancels out)."""

    add: dict[uuid.UUID, None] = field(default_factory=dict)
    remove: dict[uuid.UUID, None] = field(default_factory=dict)
    replace: dict[uuid.UUID, None] | None = None

    def add_ids(self, ids: list[uuid.UUID]) -> None:
        for member_id in ids:
            if self.replace is not None:
                self.replace[member_id] = None
            else:
                self.remove.pop(member_id, None)
                self.add[member_id] = None

    def remove_ids(self, ids: list[uuid.UUID]) -> None:
        for member_id in ids:
            if self.replace is not None:
                self.replace.pop(member_id, None)
            else:
                self.add.pop(member_id, None)
                self.remove[member_id] = None

    def replace_ids(self, ids: list[uuid.UUID]) -> None:
        self.replace = dict.fromkeys(ids)
        self.add.clear()
        self.remove.clear()

    def change(self) -> MembershipChange:
        if self.replace is not None:
            return MembershipChange(replace_ids=tuple(self.replace))
        return MembershipChange(add_ids=tuple(self.add), remove_ids=tuple(self.remove))


def _member_ids_from_filter(expr: Any) -> list[uuid.UUID]:
    """`members[value eq "id"]` (Okta), also `value eq "a" or value eq "b"`: the ids the filter names."""
    if isinstance(expr, Or):
        return _member_ids_from_filter(expr.left) + _member_ids_from_filter(expr.right)
    if (
        isinstance(expr, Compare)
        and expr.op == "eq"
        and (expr.path.attr or "").lower() == "value"
        and expr.path.sub_attr is None
    ):
        return [parse_member_id(expr.value)]
    raise InvalidFilter(f"Unsupported members filter '{expr}': use members[value eq \"<user id>\"].")


def _is_members(attr: AttrPath) -> bool:
    return (attr.attr or "").lower() == "members" and (attr.urn is None or attr.urn.lower() == S.GROUP_URN.lower())


class Patcher:
    def __init__(self, document: dict[str, Any], core: S.Schema, extensions: tuple[S.Schema, ...]) -> None:
        self.document = copy.deepcopy(document)
        self.core = core
        self.extensions = extensions
        self.is_group = core.id == S.GROUP_URN
        self.members = _MembershipAccumulator()
        self.schema_urns = [core.id, *(e.id for e in extensions)]

    def apply(self, operations: list[dict[str, Any]]) -> None:
        for operation in operations:
            try:
                self._apply_one(operation)
            except (InvalidPath, InvalidValue, InvalidFilter, Mutability, NoTarget, InvalidSyntax) as exc:
                exc.detail = f"Operation {operation['index']} ({operation['op']}): {exc.detail}"
                raise

    def _parse_path(self, text: str) -> PatchPath:
        try:
            return parse_patch_path(text, schema_urns=self.schema_urns, max_length=1024)
        except FilterSyntaxError as exc:
            raise InvalidPath(f"Invalid path '{text[:200]}': {exc}.") from None

    def _apply_one(self, operation: dict[str, Any]) -> None:
        op, value = operation["op"], operation["value"]
        if operation["path"] is None:
            if op == "remove":
                raise NoTarget("'remove' needs a 'path'.")
            self._pathless(op, value)
            return
        path = self._parse_path(operation["path"])
        if (path.attr.attr or "").lower() == "password" and path.attr.urn is None:
            return  # Okta's password sync: a password is never stored, so there is nothing to change
        if op != "remove" and not operation["has_value"]:
            raise InvalidValue(f"'{op}' needs a 'value'.")
        if self.is_group and _is_members(path.attr):
            self._members(op, path, value, operation["has_value"])
            return
        self._path_op(op, path, value)

    # Okta sends deactivation as {"op": "replace", "value": {"active": false}} and group renames as
    # {"op": "replace", "value": {"id": "…", "displayName": "…"}}: no path, an object value, id echoed.
    def _pathless(self, op: str, value: Any) -> None:
        if not isinstance(value, dict):
            raise InvalidValue(f"Without a 'path', the value of '{op}' must be an object of attributes.")
        for key, item in value.items():
            if not isinstance(key, str) or key.lower() in READ_ONLY | {"password"}:
                continue  # read-only attributes echoed by Okta (id) are ignored, password is never stored
            if self.is_group and key.lower() == "members":
                ids = parse_members(item)
                self.members.replace_ids(ids) if op == "replace" else self.members.add_ids(ids)
                continue
            if any(e.id.lower() == key.lower() for e in self.extensions) and isinstance(item, dict):
                for sub_key, sub_value in item.items():
                    self._path_op(op, PatchPath(AttrPath(key, sub_key)), sub_value)
                continue
            if key.lower().startswith("urn:") and isinstance(item, dict):
                # a custom extension object (e.g. Okta's custom attributes): merged, kept as sent
                existing_key = find_key(self.document, key) or key
                current = self.document.get(existing_key)
                self.document[existing_key] = {**(current if isinstance(current, dict) else {}), **item}
                continue
            path = self._entra_pathless_key(key)
            self._path_op(op, path, item)

    def _entra_pathless_key(self, key: str) -> PatchPath:
        """Entra ID keys path-less values by attribute path ("name.givenName", "urn:…:User:department")."""
        try:
            return parse_patch_path(key, schema_urns=self.schema_urns, max_length=1024)
        except FilterSyntaxError:
            return PatchPath(AttrPath(None, key))  # an unknown key kept as sent

    def _path_op(self, op: str, path: PatchPath, value: Any) -> None:
        target = _resolve(self.document, path.attr, self.core, self.extensions, create=op != "remove")
        if target is None:
            if op == "remove":
                return
            raise NoTarget(f"No attribute at '{path}'.")
        if target.key is None:
            raise InvalidPath(f"Invalid path '{path}'.")
        if path.value_filter is not None:
            self._filtered(op, target, path, value)
            return
        container, key = target.container, target.key
        if target.sub_attr is not None:
            self._sub_attribute(op, target, value)
            return
        if op == "remove":
            if key in container and target.attribute is not None and target.attribute.required:
                raise InvalidValue(f"'{key}' is required and cannot be removed.", scim_type="mutability")
            if value is not None and _is_multi(target) and isinstance(container.get(key), list):
                self._remove_values(container, key, value)
            else:
                container.pop(key, None)
            return
        if value is None:
            container.pop(key, None)  # RFC 7643 §2.5: null is unassigned
            return
        if _is_multi(target):
            new_items = _items(value)
            if op == "add":
                current = container.get(key) if isinstance(container.get(key), list) else []
                merged = current + [item for item in new_items if item not in current]
                _clear_other_primaries(merged, new_items)
                container[key] = merged
            else:
                container[key] = new_items
            return
        if _is_complex(target, value) and isinstance(value, dict) and target.key is not None:
            current = container.get(key) if isinstance(container.get(key), dict) else {}
            container[key] = {**current, **value}  # sub-attributes not given are left unchanged (§3.5.2.3)
            return
        container[key] = value

    def _sub_attribute(self, op: str, target: _Target, value: Any) -> None:
        container, key, sub = target.container, target.key, target.sub_attr
        current = container.get(key)
        if isinstance(current, list):  # `emails.value` without a filter: every value
            for item in current:
                if isinstance(item, dict):
                    sub_key = find_key(item, sub) or sub
                    if op == "remove" or value is None:
                        item.pop(sub_key, None)
                    else:
                        item[sub_key] = value
            return
        if op == "remove" or value is None:
            if isinstance(current, dict):
                current.pop(find_key(current, sub) or sub, None)
                if not current:
                    container.pop(key, None)
            return
        if not isinstance(current, dict):
            current = container[key] = {}
        current.pop(find_key(current, sub) or sub, None)
        current[sub] = value

    def _remove_values(self, container: dict[str, Any], key: str, value: Any) -> None:
        """Remove the given values (matched on their `value` sub-attribute when they are objects)."""
        wanted = _items(value)
        wanted_values = {_as_comparable(w.get("value")) if isinstance(w, dict) else _as_comparable(w) for w in wanted}
        kept = []
        for item in container[key]:
            item_value = _as_comparable(item.get("value")) if isinstance(item, dict) else _as_comparable(item)
            if item_value not in wanted_values:
                kept.append(item)
        if kept:
            container[key] = kept
        else:
            container.pop(key)

    def _filtered(self, op: str, target: _Target, path: PatchPath, value: Any) -> None:
        if not _is_multi(target) and target.attribute is not None:
            raise InvalidPath(f"'{target.key}' is not multi-valued; a value filter cannot select its values.")
        container, key = target.container, target.key
        current = container.get(key) if isinstance(container.get(key), list) else []
        matched = [item for item in current if matches(path.value_filter, item)]
        sub = path.sub_attr
        if sub is not None and target.attribute is not None:
            sub_def = target.attribute.sub_attribute(sub)
            if sub_def is None and target.attribute.type != "complex":
                raise InvalidPath(f"'{target.key}' has no sub-attribute '{sub}'.")
            if sub_def is not None:
                sub = sub_def.name
        if op == "remove":
            if sub is None:
                remaining = [item for item in current if not any(item is m for m in matched)]
                if remaining:
                    container[key] = remaining
                else:
                    container.pop(key, None)
            else:
                for item in matched:
                    if isinstance(item, dict):
                        item.pop(find_key(item, sub) or sub, None)
            return
        if not matched:
            created = self._entra_create_from_filter(path, value, sub)
            container[key] = [*current, created]
            _clear_other_primaries(container[key], [created])
            return
        for item in matched:
            if not isinstance(item, dict):
                raise InvalidPath(f"The values of '{key}' are not objects; use a path without a filter.")
            if sub is not None:
                item.pop(find_key(item, sub) or sub, None)
                item[sub] = value
            elif isinstance(value, dict):
                item.update(value)
            else:
                raise InvalidValue(f"Replacing values of '{key}' selected by a filter needs an object value.")
        _clear_other_primaries(current, matched if (sub or "").lower() == "primary" else [])

    def _entra_create_from_filter(self, path: PatchPath, value: Any, sub: str | None) -> dict[str, Any]:
        element = _element_from_filter(path.value_filter)
        if element is None:
            raise NoTarget(f"No value of '{path.attr}' matches the filter of '{path}'.")
        if sub is not None:
            element[sub] = value
        elif isinstance(value, dict):
            element.update(value)
        else:
            raise NoTarget(f"No value of '{path.attr}' matches the filter of '{path}'.")
        return element

    def _members(self, op: str, path: PatchPath, value: Any, has_value: bool) -> None:
        if path.attr.sub_attr is not None or path.sub_attr is not None:
            raise InvalidPath("Member sub-attributes cannot be changed; add or remove members instead.")
        if op == "remove":
            if path.value_filter is not None:
                self.members.remove_ids(_member_ids_from_filter(path.value_filter))
            elif has_value and value is not None:
                # Entra ID removes members with {"path": "members", "value": [{"value": "<id>"}]}.
                self.members.remove_ids(parse_members(value))
            else:
                self.members.replace_ids([])
            return
        if path.value_filter is not None:
            raise InvalidPath(f"'{op}' on members takes the path 'members' and a list of members as value.")
        ids = parse_members(value)
        if op == "add":
            self.members.add_ids(ids)
        else:
            self.members.replace_ids(ids)


def apply_patch(
    document: dict[str, Any], body: Any, core: S.Schema, extensions: tuple[S.Schema, ...]
) -> tuple[dict[str, Any], MembershipChange]:
    """Apply a PatchOp body to a copy of `document`; return the new document and the membership change."""
    operations = operations_of(body)
    patcher = Patcher(document, core, extensions)
    patcher.apply(operations)
    return patcher.document, patcher.members.change()
