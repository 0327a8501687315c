"""SCIM 2.0 filters and PATCH paths (RFC 7644 §3.4.2.2 and §3.5.2).

Parsing lives in :mod:`scim.filters.parser` (the grammar and the entry points; the AST in
:mod:`scim.filters.syntax`, tokens and literals in :mod:`scim.filters.lexer`); compiling a parsed filter or
``sortBy`` into Django ORM expressions in :mod:`scim.filters.compiler`; which filters can match a resource
type at all (``/.search`` at the root) in :mod:`scim.filters.scope`.
"""

from scim.filters.compiler import FilterCompileError, compile_filter, compile_sort
from scim.filters.parser import (
    COMPARE_OPERATORS,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_LENGTH,
    RFC_SCHEMA_URNS,
    And,
    AttrPath,
    Compare,
    CompValue,
    Expr,
    FilterSyntaxError,
    Not,
    Or,
    PatchPath,
    Present,
    ValuePath,
    parse_attr_path,
    parse_filter,
    parse_patch_path,
    to_string,
)

__all__ = [
    "COMPARE_OPERATORS",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_LENGTH",
    "RFC_SCHEMA_URNS",
    "And",
    "AttrPath",
    "CompValue",
    "Compare",
    "Expr",
    "FilterCompileError",
    "FilterSyntaxError",
    "Not",
    "Or",
    "PatchPath",
    "Present",
    "ValuePath",
    "compile_filter",
    "compile_sort",
    "parse_attr_path",
    "parse_filter",
    "parse_patch_path",
    "to_string",
]
