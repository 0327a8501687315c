"""A filter of a search across resource types (RFC 7644 §3.4.3, POST /.search at the SCIM root), as it applies to
one type.

The RFC says a root search covers all resources "subject to filtering" and leaves open what a filter naming
attributes of one type only means for the others. Here an attribute another type defines and this one does not
(``userName`` or ``emails`` for a Group, ``members`` for a User; a URN of the other type's schemas) has no value on
this type, and compares as an absent attribute does everywhere else (scim.filters.compiler): ``pr``, ``eq "x"``
and value filters are false, ``ne "x"`` and ``eq null`` true. So ``userName eq "x"`` finds no group and
``not (userName eq "x")`` every group. Without this, the compiler would refuse the filter for that type (a schema
that does not apply) or look for the name among the arbitrary attributes a resource keeps. Attributes no type
defines (custom ones) are left as they are, for each type to look up.

The result is the filter with those comparisons folded away: ``False`` when no resource of the type can match
(no query at all), ``True`` when every one does (no filter), else the smaller filter.
"""

from __future__ import annotations

from scim.filters.syntax import And, AttrPath, Compare, Expr, Not, Or, Present, ValuePath
from scim.schemas import RESOURCE_TYPES, ResourceType, find_attribute, get_schema

__all__ = ["applies_to", "scope_filter"]


def _defines(resource_type: ResourceType, path: AttrPath) -> bool | None:
    """Whether `resource_type` defines the attribute of `path`; None when no schema of this server names it."""
    schemas = (resource_type.schema, *resource_type.extension_schemas)
    if path.urn is not None:
        schema = get_schema(path.urn)
        if schema is None:
            return None  # a URN of nobody's schema: a custom attribute
        if schema not in schemas:
            return False
    if path.attr is None:
        return path.urn is not None
    if path.urn is None and path.attr.lower() == "schemas":
        return True
    return find_attribute(resource_type.schema, resource_type.extension_schemas, path.urn, path.attr) is not None


def applies_to(path: AttrPath, resource_type: str) -> bool:
    """False when `path` names an attribute only other resource types define (RFC 7644 §3.4.3): for this type it
    has no value."""
    this = RESOURCE_TYPES[resource_type]
    defined = _defines(this, path)
    if defined is not False:
        return True
    return not any(_defines(other, path) for other in RESOURCE_TYPES.values() if other is not this)


def scope_filter(expr: Expr, resource_type: str) -> Expr | bool:
    """`expr` for the resources of `resource_type` in a search across types: True (all match), False (none does)
    or a filter. Recursion is bounded by the parser's limits on nesting (balanced and/or chains, depth 32)."""
    if isinstance(expr, And | Or):
        left, right = scope_filter(expr.left, resource_type), scope_filter(expr.right, resource_type)
        absorbing = isinstance(expr, Or)  # True absorbs an `or`, False an `and`
        if left is absorbing or right is absorbing:
            return absorbing
        if left is (not absorbing):
            return right
        if right is (not absorbing):
            return left
        if left is expr.left and right is expr.right:
            return expr
        return type(expr)(left, right)
    if isinstance(expr, Not):
        inner = scope_filter(expr.expr, resource_type)
        if isinstance(inner, bool):
            return not inner
        return expr if inner is expr.expr else Not(inner)
    if isinstance(expr, Compare | Present | ValuePath):
        return expr if applies_to(expr.path, resource_type) else _when_absent(expr)
    raise TypeError(f"not a filter expression: {expr!r}")


def _when_absent(expr: Compare | Present | ValuePath) -> bool:
    """What a comparison is worth on a resource without the attribute: `eq null` (and `eq ""`, the same) is true,
    `ne` its negation, everything else false."""
    if isinstance(expr, Compare) and expr.op in ("eq", "ne"):
        absent = expr.value is None or expr.value == ""
        return absent if expr.op == "eq" else not absent
    return False
