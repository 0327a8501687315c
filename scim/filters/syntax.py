"""What a SCIM filter or PATCH path is once parsed: the AST, its one error class, the limits, and the way back to text.

The parser (:mod:`scim.filters.parser`, whose docstring has the grammar and the decisions) produces these
nodes; the compiler, the PATCH engine and the scope of a resource type read them.  They are immutable, and
``and``/``or`` chains are balanced trees (:func:`_balanced`), so nothing that walks them nears Python's
recursion limit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, TypeAlias

__all__ = [
    "COMPARE_OPERATORS",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_LENGTH",
    "MAX_NUMBER_EXPONENT",
    "RFC_SCHEMA_URNS",
    "And",
    "AttrPath",
    "CompValue",
    "Compare",
    "Expr",
    "FilterSyntaxError",
    "Not",
    "Or",
    "PatchPath",
    "Present",
    "ValuePath",
    "to_string",
]

#: The comparison operators of RFC 7644 §3.4.2.2 Table 3, in the RFC's order.
COMPARE_OPERATORS: Final[tuple[str, ...]] = ("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le")

#: Default cap on the length of a filter or path, in characters.
DEFAULT_MAX_LENGTH: Final = 4096

#: Default cap on nesting: each ``(``, ``not (`` and ``[`` opens one level.
DEFAULT_MAX_DEPTH: Final = 32

#: Numbers in filters are 0 or between 1e-1000 and 1e1000 in magnitude. PostgreSQL's numeric holds 1e131071 down to
#: 1e-16383 and fails the whole statement beyond ("value overflows numeric format"); no attribute value comes near
#: (JSON numbers stop at about 1.8e308 in practice, RFC 8259 §6), so the limit refuses nothing meaningful.
MAX_NUMBER_EXPONENT: Final = 1000

#: Schema URNs defined by RFC 7643 §8.7.1; a PATCH path equal to one of them names the whole schema.
RFC_SCHEMA_URNS: Final[frozenset[str]] = frozenset(
    {
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    }
)


class FilterSyntaxError(ValueError):
    """A filter or PATCH path does not follow RFC 7644 §3.4.2.2 / §3.5.2, or exceeds a safety limit.

    Why one class: callers turn it into a single HTTP 400 response (RFC 7644 §3.12) whose ``detail``
    is ``str(exc)``; ``scim_type`` already holds the matching ``scimType`` (``invalidFilter`` for
    filters, ``invalidPath`` for PATCH paths).  ``position`` is the 0-based character offset of the
    problem (``None`` when it concerns the whole text) and ``token`` the offending text, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        position: int | None = None,
        token: str | None = None,
        scim_type: str = "invalidFilter",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.token = token
        self.scim_type = scim_type


# --------------------------------------------------------------------------------------------------
# AST
# --------------------------------------------------------------------------------------------------

#: A comparison value as decoded from JSON (RFC 7644 §3.4.2.2 ``compValue``).
CompValue: TypeAlias = str | int | Decimal | bool | None


class _Node:
    """Shared by every AST node: render back to canonical filter (or path) text."""

    __slots__ = ()

    def to_string(self) -> str:
        """Render back to canonical RFC 7644 text."""
        return to_string(self)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return to_string(self)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class AttrPath(_Node):
    """An attribute path ``[urn ":"] attr ["." sub_attr]`` (RFC 7644 §3.10).

    ``urn`` is the schema URN prefix (everything up to the last ':' before the attribute name) or
    ``None``.  ``attr`` is ``None`` only for a PATCH path that names a whole extension schema, such
    as ``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`` (RFC 7644 §3.5.2); filters
    never produce that.  Names keep their original case.
    """

    urn: str | None
    attr: str | None
    sub_attr: str | None = None


@dataclass(frozen=True, slots=True)
class Compare(_Node):
    """``path op value`` with ``op`` one of :data:`COMPARE_OPERATORS`, lower-cased (RFC 7644 §3.4.2.2)."""

    path: AttrPath
    op: str
    value: CompValue


@dataclass(frozen=True, slots=True)
class Present(_Node):
    """``path pr``: the attribute has a non-empty value (RFC 7644 §3.4.2.2)."""

    path: AttrPath


@dataclass(frozen=True, slots=True)
class And(_Node):
    """``left and right`` (RFC 7644 §3.4.2.2).  Chains are stored as balanced trees (:func:`_balanced`)."""

    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Or(_Node):
    """``left or right`` (RFC 7644 §3.4.2.2).  Chains are stored as balanced trees (:func:`_balanced`)."""

    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Not(_Node):
    """``not (expr)`` (RFC 7644 §3.4.2.2)."""

    expr: Expr


@dataclass(frozen=True, slots=True)
class ValuePath(_Node):
    """``path[filter]``: a complex multi-valued attribute filter (RFC 7644 §3.4.2.2 ``valuePath``).

    Attribute paths inside ``filter`` are relative to ``path`` (``type`` in ``emails[type eq "work"]``
    means ``emails.type`` of the same value).
    """

    path: AttrPath
    filter: Expr


#: Any filter expression node.
Expr: TypeAlias = Compare | Present | And | Or | Not | ValuePath


@dataclass(frozen=True, slots=True)
class PatchPath(_Node):
    """A PATCH ``path`` (RFC 7644 §3.5.2): ``attr``, then an optional ``[value_filter]`` and ``.sub_attr``.

    ``emails[type eq "work"].value`` gives ``attr=AttrPath(None, "emails")``, the bracketed filter in
    ``value_filter`` and ``sub_attr="value"``; ``name.givenName`` keeps its sub-attribute inside
    ``attr`` and leaves ``sub_attr`` ``None``.
    """

    attr: AttrPath
    value_filter: Expr | None = None
    sub_attr: str | None = None


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------


def to_string(node: Expr | AttrPath | PatchPath) -> str:
    """Render a node as canonical RFC 7644 §3.4.2.2 filter (or §3.5.2 path) text.

    Why: error messages and logs can show what was understood, and tests can check that
    ``parse_filter(to_string(parse_filter(x))) == parse_filter(x)``.  Keywords and operators are
    lower-cased, whitespace is normalised to one space, and parentheses appear only where needed.
    """
    if isinstance(node, AttrPath):
        if node.attr is None:
            return node.urn or ""
        text = node.attr if node.urn is None else f"{node.urn}:{node.attr}"
        return text if node.sub_attr is None else f"{text}.{node.sub_attr}"
    if isinstance(node, Compare):
        return f"{to_string(node.path)} {node.op} {_render_value(node.value)}"
    if isinstance(node, Present):
        return f"{to_string(node.path)} pr"
    if isinstance(node, And):
        parts = []
        for operand in _flatten(node, And):
            text = to_string(operand)
            parts.append(f"({text})" if isinstance(operand, Or) else text)
        return " and ".join(parts)
    if isinstance(node, Or):
        return " or ".join(to_string(operand) for operand in _flatten(node, Or))
    if isinstance(node, Not):
        return f"not ({to_string(node.expr)})"
    if isinstance(node, ValuePath):
        return f"{to_string(node.path)}[{to_string(node.filter)}]"
    if isinstance(node, PatchPath):
        text = to_string(node.attr)
        if node.value_filter is not None:
            text = f"{text}[{to_string(node.value_filter)}]"
        return text if node.sub_attr is None else f"{text}.{node.sub_attr}"
    raise TypeError(f"cannot render {type(node).__name__} as a SCIM filter")


def _render_value(value: CompValue) -> str:
    """Render a comparison value as the JSON literal it was parsed from (RFC 7159)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal) and value.is_finite():
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise TypeError(f"cannot render {value!r} as a SCIM comparison value")


def _flatten(node: Expr, kind: type[And] | type[Or]) -> list[Expr]:
    """Operands of the maximal ``kind`` chain rooted at ``node``, left to right, without recursion."""
    operands: list[Expr] = []
    stack: list[Expr] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, And | Or) and type(current) is kind:
            stack.append(current.right)
            stack.append(current.left)
        else:
            operands.append(current)
    return operands


def _balanced(kind: type[And] | type[Or], operands: list[Expr]) -> Expr:
    """Join ``operands`` with ``kind`` into a balanced tree (depth ~log2 n), keeping their order."""
    if len(operands) == 1:
        return operands[0]
    middle = (len(operands) + 1) // 2
    return kind(_balanced(kind, operands[:middle]), _balanced(kind, operands[middle:]))
