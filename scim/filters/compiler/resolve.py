"""The compiler proper: walks the filter tree, and resolves each attribute path (RFC 7644 §3.10) to a target.

Resolution is where a newcomer finds where each attribute lives: ``id``, ``externalId`` and ``meta`` in columns
(:meth:`_Compiler._common`), the core attributes Okta and Entra ID filter on in indexed columns or related rows
(:meth:`_Compiler._core`), extension attributes under their URN in the JSON document
(:meth:`_Compiler._extension`), and unknown attributes looked up case-insensitively in it
(:meth:`_Compiler._unknown`).  ``sortBy`` is resolved the same way (:meth:`_Compiler.sort`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Final

from django.db.models import F, OrderBy, Q

from scim.filters.compiler.errors import FilterCompileError
from scim.filters.compiler.scalars import _condition, _Scalar, _true
from scim.filters.compiler.sql import _ATTRNAME_RE, _SAFE_KEY_RE, _ascii_lower, _JsonOp, _JsonRef, _Step
from scim.filters.compiler.targets import (
    _Collection,
    _CollectionTarget,
    _ComplexTarget,
    _EmailRows,
    _json_scalar,
    _JsonArray,
    _LaxTarget,
    _Memberships,
    _ScalarTarget,
    _SchemasTarget,
    _Target,
)
from scim.filters.syntax import And, AttrPath, Compare, Expr, Not, Or, Present, ValuePath, to_string
from scim.schemas import (
    GROUP_RESOURCE_TYPE,
    GROUP_SCHEMA,
    USER_RESOURCE_TYPE,
    USER_SCHEMA,
    Attribute,
    ResourceType,
    find_attribute,
    get_schema,
)

_RESOURCE_TYPES: Final[dict[str, ResourceType]] = {"User": USER_RESOURCE_TYPE, "Group": GROUP_RESOURCE_TYPE}


# --------------------------------------------------------------------------------------------------
# The compiler
# --------------------------------------------------------------------------------------------------


class _Compiler:
    """Resolves attribute paths for one resource type and walks the filter tree (RFC 7644 §3.4.2.2)."""

    def __init__(self, resource_type: str) -> None:
        if resource_type not in _RESOURCE_TYPES:
            raise ValueError(f"resource_type must be 'User' or 'Group', not {resource_type!r}")
        self.resource_type = resource_type
        self.rt = _RESOURCE_TYPES[resource_type]
        self._counter = itertools.count(1)

    # -- helpers ------------------------------------------------------------------------------------

    def alias(self, prefix: str) -> str:
        """A SQL alias unique within this compilation (nested subqueries must not shadow each other)."""
        return f"scim_{prefix}{next(self._counter)}"

    def step(self, key: str, *, case_insensitive: bool) -> _Step:
        return _Step(key, self.alias("k") if case_insensitive else None)

    # -- tree walk ----------------------------------------------------------------------------------

    def compile(self, expr: Expr) -> Q:
        return self._walk(expr, self._leaf)

    @staticmethod
    def _walk(expr: Expr, leaf: Callable[[Expr], Q]) -> Q:
        """Post-order walk with an explicit stack: no recursion, whatever the shape of the tree."""
        stack: list[tuple[Expr, bool]] = [(expr, False)]
        results: list[Q] = []
        while stack:
            node, done = stack.pop()
            if isinstance(node, And | Or):
                if done:
                    right, left = results.pop(), results.pop()
                    results.append(left & right if isinstance(node, And) else left | right)
                else:
                    stack.extend(((node, True), (node.right, False), (node.left, False)))
            elif isinstance(node, Not):
                if done:
                    results.append(~results.pop())
                else:
                    stack.extend(((node, True), (node.expr, False)))
            else:
                results.append(leaf(node))
        return results.pop()

    def _leaf(self, node: Expr) -> Q:
        if isinstance(node, ValuePath):
            target = self.resolve(node.path)
            collection = target.collection()
            if isinstance(collection, _EmailRows) and not all(
                _EmailRows.handles(sub) for sub in self._relative_names(node)
            ):
                # A sub-attribute RealmEmail does not store (display...): use the JSON copy of emails.
                collection = self._emails_json(target.label)
            inner = self._walk(node.filter, lambda child: self._element_leaf(collection, node, child))
            return collection.exists(inner)
        if isinstance(node, Present):
            return self.resolve(node.path).compare("pr", None)
        assert isinstance(node, Compare)
        return self.resolve(node.path).compare(node.op, node.value)

    def _relative_names(self, node: ValuePath) -> Iterator[str]:
        stack: list[Expr] = [node.filter]
        while stack:
            child = stack.pop()
            if isinstance(child, And | Or):
                stack.extend((child.left, child.right))
            elif isinstance(child, Not):
                stack.append(child.expr)
            elif isinstance(child, Compare | Present):
                yield child.path.attr or ""

    def _element_leaf(self, collection: _Collection, parent: ValuePath, node: Expr) -> Q:
        assert isinstance(node, Compare | Present)
        path = node.path
        if path.urn is not None or path.sub_attr is not None or path.attr is None:
            raise FilterCompileError(
                f"inside '{to_string(parent.path)}[...]' name sub-attributes alone (such as 'type' or "
                f"'value'), not '{to_string(path)}'"
            )
        self._check_name(path.attr)
        label = f"{to_string(parent.path)}.{path.attr}"
        scalar = collection.element(path.attr, label)
        if isinstance(node, Present):
            return _condition(scalar, "pr", None)
        return _condition(scalar, node.op, node.value)

    # -- attribute resolution (RFC 7644 §3.10) ------------------------------------------------------

    @staticmethod
    def _check_name(name: str) -> None:
        if not _ATTRNAME_RE.fullmatch(name):
            raise FilterCompileError(f"invalid attribute name {name!r}")

    def resolve(self, path: AttrPath) -> _Target:
        label = to_string(path)
        if path.attr is None:
            raise FilterCompileError(f"'{label}' is a schema URN; name an attribute, as in '{label}:attributeName'")
        self._check_name(path.attr)
        if path.sub_attr is not None:
            self._check_name(path.sub_attr)
        if path.urn is not None and not _SAFE_KEY_RE.fullmatch(path.urn):
            raise FilterCompileError(f"invalid schema URN {path.urn!r}")
        urn_schema = get_schema(path.urn) if path.urn is not None else None
        if urn_schema is not None and urn_schema not in (self.rt.schema, *self.rt.extension_schemas):
            raise FilterCompileError(
                f"the schema '{urn_schema.id}' does not apply to {self.resource_type} resources (in '{label}')"
            )
        if _ascii_lower(path.attr) == "schemas" and (path.urn is None or urn_schema is self.rt.schema):
            if path.sub_attr is not None:
                raise FilterCompileError(f"'schemas' has no sub-attributes, so '{label}' cannot be filtered")
            return _SchemasTarget(self, label)
        found = find_attribute(self.rt.schema, self.rt.extension_schemas, path.urn, path.attr)
        if found is None:
            return self._unknown(path, label)
        schema, definition = found
        if definition.returned == "never" or definition.mutability == "writeOnly":
            raise FilterCompileError(
                f"'{label}' cannot be used to filter or sort: it is write-only and never returned (RFC 7643 §4.1.1)"
            )
        sub_definition: Attribute | None = None
        if path.sub_attr is not None:
            if definition.type != "complex":
                raise FilterCompileError(
                    f"'{definition.name}' is a {definition.type} attribute without sub-attributes, so "
                    f"'{label}' cannot be filtered; use '{definition.name}' alone"
                )
            sub_definition = definition.sub_attribute(path.sub_attr)
        sub = sub_definition.name if sub_definition is not None else path.sub_attr
        if schema is None:
            return self._common(definition, sub, sub_definition, label)
        if schema is self.rt.schema:
            return self._core(definition, sub, sub_definition, label)
        return self._extension(schema.id, definition, sub, sub_definition, label)

    def _common(self, definition: Attribute, sub: str | None, sub_def: Attribute | None, label: str) -> _Target:
        """``id``, ``externalId`` and ``meta`` (RFC 7643 §3.1): columns, not JSON."""
        if definition.name == "id":
            return _ScalarTarget(_Scalar(label, "id", case_exact=True, column=lambda: F("pk")))
        if definition.name == "externalId":
            return _ScalarTarget(
                _Scalar(label, "string", case_exact=True, column=lambda: F("external_id"), nullable=True, blank=True)
            )
        # meta
        if sub is None:
            return _ComplexTarget(definition, label, _true(), None)
        if sub_def is None:
            raise FilterCompileError(
                f"'meta' has no sub-attribute '{sub}'; filter on meta.created, meta.lastModified or meta.resourceType"
            )
        if sub == "created":
            return _ScalarTarget(_Scalar(label, "dateTime", column=lambda: F("created_at")))
        if sub == "lastModified":
            return _ScalarTarget(_Scalar(label, "dateTime", column=lambda: F("updated_at")))
        if sub == "resourceType":
            return _ScalarTarget(_Scalar(label, "constant", case_exact=True, constant=self.resource_type))
        raise FilterCompileError(
            f"filtering on 'meta.{sub}' is not supported; filter on meta.created, meta.lastModified or "
            "meta.resourceType"
        )

    def _core(self, definition: Attribute, sub: str | None, sub_def: Attribute | None, label: str) -> _Target:
        """Core schema attributes (RFC 7643 §4.1, §4.2): columns where indexed, else canonical JSON keys."""
        name = definition.name
        columns: dict[tuple[str, str | None], tuple[str, bool]] = {  # attribute -> (column, blank)
            ("userName", None): ("username", False),
            ("displayName", None): ("display_name", True),
            ("name", "givenName"): ("given_name", True),
            ("name", "familyName"): ("family_name", True),
        }
        if self.resource_type == "User":
            if (name, sub) in columns:
                column, blank = columns[(name, sub)]
                return _ScalarTarget(_Scalar(label, "string", column=lambda: F(column), blank=blank))
            if name == "active":
                return _ScalarTarget(_Scalar(label, "boolean", column=lambda: F("active")))
            if name == "groups":
                return _CollectionTarget(_Memberships("User", label), sub, label)
            if name == "emails" and _EmailRows.handles(sub):
                return _CollectionTarget(_EmailRows(label), sub, label)
        else:
            if name == "displayName":
                return _ScalarTarget(_Scalar(label, "string", column=lambda: F("display_name")))
            if name == "members":
                return _CollectionTarget(_Memberships("Group", label), sub, label)
        return self._json(_JsonRef((_Step(name),)), definition, sub, sub_def, label, canonical=True)

    def _extension(
        self, urn: str, definition: Attribute, sub: str | None, sub_def: Attribute | None, label: str
    ) -> _Target:
        """Extension attributes (RFC 7643 §4.3), under their schema URN key in ``attributes``."""
        ref = _JsonRef((self.step(urn, case_insensitive=True), self.step(definition.name, case_insensitive=True)))
        return self._json(ref, definition, sub, sub_def, label, canonical=False)

    def _emails_json(self, label: str) -> _JsonArray:
        return _JsonArray(self, _JsonRef((_Step("emails"),)), label, USER_SCHEMA.attribute("emails"), canonical=True)

    def _json(
        self,
        ref: _JsonRef,
        definition: Attribute,
        sub: str | None,
        sub_def: Attribute | None,
        label: str,
        *,
        canonical: bool,
    ) -> _Target:
        """A known attribute kept in the JSON document (canonical: stored under its RFC 7643 name)."""
        if definition.multi_valued:
            return _CollectionTarget(_JsonArray(self, ref, label, definition, canonical=canonical), sub, label)
        if definition.type != "complex":
            return _ScalarTarget(_json_scalar(label, definition, ref))
        if sub is None:
            value_def = definition.sub_attribute("value")
            value = None
            if value_def is not None:
                value_ref = ref.child(self.step(value_def.name, case_insensitive=not canonical))
                value = _ScalarTarget(_json_scalar(label, value_def, value_ref))
            return _ComplexTarget(definition, label, Q(_JsonOp(ref, "present")), value)
        if sub_def is None:
            return _ScalarTarget(_Scalar(label, "any", json=ref.child(self.step(sub, case_insensitive=True))))
        return _ScalarTarget(
            _json_scalar(label, sub_def, ref.child(self.step(sub_def.name, case_insensitive=not canonical)))
        )

    def _unknown(self, path: AttrPath, label: str) -> _Target:
        """An attribute no schema defines: a case-insensitive JSON path that matches nothing when absent."""
        assert path.attr is not None
        steps: list[_Step] = []
        urn_schema = get_schema(path.urn) if path.urn is not None else None
        if path.urn is not None and urn_schema is not self.rt.schema:
            steps.append(self.step(urn_schema.id if urn_schema else path.urn, case_insensitive=True))
        steps.append(self.step(path.attr, case_insensitive=True))
        ref = _JsonRef(tuple(steps))
        # A name RFC 7643 defines as multi-valued (phoneNumbers under a custom URN, emails on a Group...)
        # keeps its multi-valued meaning: "attr eq x" compares attr.value.
        rfc = USER_SCHEMA.attribute(path.attr) or GROUP_SCHEMA.attribute(path.attr)
        if rfc is not None and rfc.multi_valued:
            return _CollectionTarget(_JsonArray(self, ref, label, rfc, canonical=False), path.sub_attr, label)
        return _LaxTarget(self, ref, path.sub_attr, label)

    # -- sorting (RFC 7644 §3.4.2.3) -----------------------------------------------------------------

    def sort(self, path: AttrPath, *, descending: bool) -> list[OrderBy]:
        target = self.resolve(path)
        if isinstance(target, _ComplexTarget):
            if target.value is None:
                raise FilterCompileError(
                    f"cannot sort by the complex attribute '{target.label}'; sort by one of its sub-attributes, "
                    f"such as '{target.label}.{target.definition.sub_attributes[0].name}'"
                )
            target = target.value
        if isinstance(target, _SchemasTarget):
            raise FilterCompileError("sorting by 'schemas' is not supported")
        key = target.sort_key()
        ordering: list[OrderBy] = []
        if key is not None:
            ordering.append(key.desc(nulls_last=True) if descending else key.asc(nulls_last=True))
        ordering += [F("created_at").asc(), F("id").asc()]
        return ordering
