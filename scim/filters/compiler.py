"""Compile SCIM filters (RFC 7644 §3.4.2.2) and ``sortBy`` (§3.4.2.3) into Django ORM expressions.

Why in the database: a realm can hold many users, and the IdP filters on every provisioning call
(``userName eq "..."``), so filtering must never load rows into Python.  :func:`compile_filter` turns a
parsed filter (:func:`scim.filters.parser.parse_filter`) into one :class:`~django.db.models.Q` that the
caller applies to ``RealmUser.objects.filter(realm=realm)`` (or ``RealmGroup``); the whole filter then
runs as a single SQL query, with the same results on SQLite and PostgreSQL.

Where each attribute lives (see :mod:`realms.models`):

* columns: ``id``, ``userName``, ``externalId``, ``active``, ``displayName``, ``name.givenName``,
  ``name.familyName``, ``meta.created``, ``meta.lastModified`` (``meta.resourceType`` is a constant);
* related rows, reached with ``EXISTS``: ``emails`` (value, type, primary) through ``RealmEmail``,
  ``groups`` (value: group id, display: group displayName) and ``members`` (value: user id, display:
  the user's displayName, or userName when it has none) through ``RealmGroupMembership``, restricted
  to the resource's realm;
* everything else in the ``attributes`` JSON document, reached through small custom expressions
  (:class:`_JsonOp`, :class:`_JsonAny`) that render vendor-specific SQL (``json_type``/``json_extract``/
  ``json_each`` on SQLite, ``jsonb`` operators and ``jsonb_array_elements`` on PostgreSQL).  Every value
  and every JSON key coming from the filter is a query parameter; nothing from the filter is spliced into
  the SQL text.

Semantics chosen where RFC 7644 §3.4.2.2 leaves room (the tests pin each of them down):

* Attribute names, sub-attribute names and schema URNs are case-insensitive (RFC 7643 §2.1).  Core
  attributes are stored under their canonical names, so they are looked up directly; keys under an
  extension URN and attributes this server does not know are matched case-insensitively in SQL.
* String comparisons follow the attribute's ``caseExact`` (RFC 7643 §2.2): ``LOWER()`` on both sides
  when it is false (which also lets ``userName eq`` use the unique index on ``lower(username)``).
  ``id``, ``externalId``, ``meta.resourceType``, ``$ref`` and binary values (RFC 7643 §2.3.6) are case
  exact.  ``co``/``sw``/``ew`` use ``strpos``/``instr`` and ``right()`` rather than ``LIKE``, so they are
  case-sensitive when they must be (SQLite's ``LIKE`` is not) and need no escaping of ``%`` and ``_``.
  Unknown attributes are compared as case-insensitive strings.
* ``gt``/``ge``/``lt``/``le`` compare strings by Unicode code point (``COLLATE "C"`` on PostgreSQL, the
  default ``BINARY`` collation on SQLite), dateTimes chronologically and numbers numerically; they are
  an error on booleans.
* A dateTime in a filter denotes the interval its precision covers: ``meta.created eq
  "2011-05-13T04:42:34Z"`` matches any instant within that second, ``gt`` means after the end of it.
  A dateTime without a time zone is taken as UTC.
* ``pr`` (present) means not null, not ``""`` and not an empty array or object.  ``eq null`` means not
  present and ``ne null`` present.  Consistently, a stored ``""`` is no value (blank columns store an
  absent ``displayName`` that way): it satisfies no comparison, and comparing with ``""`` is a presence
  test (``eq ""`` is ``eq null``, while ``co ""``, ``sw ""``, ``ew ""``, ``gt ""`` and ``ge ""`` mean
  present).
* ``id``, ``groups.value`` and ``members.value`` take ``eq``, ``ne`` and ``pr`` only; a value that is
  not a UUID (8-4-4-4-12 hex digits, in any case) matches nothing.
* ``ne`` is the negation of ``eq``: it matches resources where the attribute is absent, and for a
  multi-valued attribute it matches when *no* value is equal (``emails.value ne "x"``).  Every compiled
  condition is two-valued (never SQL ``NULL``), so ``not (...)`` is the exact complement.
* Inside a value filter (``emails[type eq "work" and value co "@example.com"]``) all conditions apply to
  the same value, as the RFC requires.
* A filter on an attribute that is unknown but syntactically valid never raises: it is looked up in the
  JSON document and matches nothing when absent.  Its type follows the comparison value (a JSON
  ``true`` compares with booleans, ``42`` with numbers), and when the stored value is an array, any
  element (or the ``value`` of an element that is an object) can match.  A name RFC 7643 defines as
  multi-valued (``phoneNumbers`` under a custom URN, ``emails`` on a Group) keeps that meaning.
* Case-insensitive matching uses the database's ``LOWER()``: PostgreSQL folds all of Unicode according
  to the database's ctype while SQLite folds ASCII only, so only ASCII letters are guaranteed to compare
  case-insensitively on both.

Rejected with :class:`FilterCompileError` (the SCIM layer answers 400 ``invalidFilter``, RFC 7644 §3.12):
filters on ``password`` (writeOnly, returned never, RFC 7643 §4.1.1), a sub-attribute of a simple
attribute (``userName.foo``), a value filter on a single-valued attribute (``userName[...]``), a
comparison value of the wrong type for a known attribute, an operator that makes no sense for the
attribute's type, an invalid dateTime, and schemas that do not apply to the resource type.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Final, Literal, TypeAlias

from django.core.exceptions import FullResultSet
from django.db import NotSupportedError
from django.db.models import (
    BooleanField,
    Exists,
    Expression,
    F,
    Func,
    OrderBy,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce, Length, Lower, NullIf, Right, StrIndex
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IsNull,
    LessThan,
    LessThanOrEqual,
)

from scim.filters.parser import And, AttrPath, Compare, CompValue, Expr, Not, Or, Present, ValuePath, to_string
from scim.schemas import (
    GROUP_RESOURCE_TYPE,
    GROUP_SCHEMA,
    GROUP_URN,
    USER_RESOURCE_TYPE,
    USER_SCHEMA,
    USER_URN,
    Attribute,
    ResourceType,
    find_attribute,
    get_schema,
)

__all__ = ["FilterCompileError", "ResourceTypeName", "compile_filter", "compile_sort"]

#: The resource types whose filters can be compiled.
ResourceTypeName: TypeAlias = Literal["User", "Group"]


class FilterCompileError(ValueError):
    """A syntactically valid filter that cannot be applied to this resource type (RFC 7644 §3.4.2.2).

    Why a separate class from :class:`~scim.filters.parser.FilterSyntaxError`: the text parsed, but what it
    asks for is wrong (``active gt true``, ``userName.foo``, an invalid dateTime, ``password``...).  The
    SCIM layer still answers 400 with ``scimType`` :attr:`scim_type` (RFC 7644 §3.12), and the message
    names the attribute and the fix, because it ends up in front of an Okta or Entra ID administrator.
    """

    scim_type: Final = "invalidFilter"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def compile_filter(expr: Expr, resource_type: ResourceTypeName) -> Q:
    """Compile a parsed SCIM filter (RFC 7644 §3.4.2.2) into a ``Q`` over ``RealmUser`` or ``RealmGroup``.

    Why a ``Q``: the caller scopes the queryset to one realm and adds ordering and pagination, and the
    filter must run in the same single query.  Raises :class:`FilterCompileError` for filters that parse
    but cannot be applied (see the module docstring for the exact semantics).
    """
    return _Compiler(resource_type).compile(expr)


def compile_sort(path: AttrPath, resource_type: ResourceTypeName, *, descending: bool = False) -> list[OrderBy]:
    """Compile ``sortBy`` (RFC 7644 §3.4.2.3) into ``order_by()`` arguments.

    Why the extra terms: RFC 7644 §3.4.2.3 sorts strings case-insensitively unless the attribute is
    ``caseExact``, in code-point order ("no specific locale implied", hence ``COLLATE "C"`` on
    PostgreSQL); resources without a value come last in both directions; and ``created_at``, ``id`` are
    always appended so that pages (``startIndex``/``count``, §3.4.2.4) are stable.  Multi-valued
    attributes sort on the primary value (RFC 7644 §3.4.2.3), which is only supported for ``emails``;
    other multi-valued and complex attributes raise :class:`FilterCompileError`.
    """
    return _Compiler(resource_type).sort(path, descending=descending)


# --------------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------------

_RESOURCE_TYPES: Final[dict[str, ResourceType]] = {"User": USER_RESOURCE_TYPE, "Group": GROUP_RESOURCE_TYPE}
_CORE_URNS: Final[dict[str, str]] = {"User": USER_URN, "Group": GROUP_URN}
_ORDERING_OPERATORS: Final = ("gt", "ge", "lt", "le")
_SUBSTRING_OPERATORS: Final = ("co", "sw", "ew")
_ASCII_LOWER: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# What the parser lets through (RFC 7644 §3.4.2.2 ATTRNAME and URNs); re-checked here because these strings
# end up as JSON keys, and a '"' or '\\' would change the meaning of a SQLite JSON path.
_ATTRNAME_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]*|\$[Rr][Ee][Ff]")
_SAFE_KEY_RE: Final = re.compile(r'[^"\\\x00-\x1f\x7f]+')
_UUID_RE: Final = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATETIME_RE: Final = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]+))?(?P<tz>[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
_SQLITE_MAX_INT: Final = 2**63 - 1


def _ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only, like PostgreSQL's ``lower()`` under ``"C"``: for attribute names and keywords,
    which are ASCII (RFC 7643 §2.1 ATTRNAME). Values fold every letter on both databases (realms.signals)."""
    return text.translate(_ASCII_LOWER)


def _true() -> Q:
    """A condition that holds for every row (Django drops it from the WHERE clause)."""
    return ~Q(pk__in=[])


def _false() -> Q:
    """A condition that holds for no row (Django short-circuits it)."""
    return Q(pk__in=[])


def _models() -> Any:
    """Import the realm models lazily, so that importing :mod:`scim.filters` needs no app registry."""
    from realms import models

    return models


# --------------------------------------------------------------------------------------------------
# JSON access: vendor-specific SQL behind small Django expressions
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Step:
    """One key in a JSON path; ``alias`` is set when the key is matched case-insensitively."""

    key: str
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class _JsonRef:
    """A location in the ``attributes`` document: from the root (``base`` None) or from an array element.

    ``base`` is the SQL alias of the ``json_each``/``jsonb_array_elements`` row of an enclosing
    :class:`_JsonAny`, for the attribute paths of a value filter.
    """

    steps: tuple[_Step, ...] = ()
    base: str | None = None

    def child(self, step: _Step) -> _JsonRef:
        return _JsonRef((*self.steps, step), self.base)


_SqlPart: TypeAlias = tuple[str, list[Any]]
_SLOT_RE: Final = re.compile(r"<<([A-Z])>>")


def _fmt(template: str, **slots: _SqlPart) -> _SqlPart:
    """Fill ``<<X>>`` slots with SQL fragments, collecting their parameters in textual order.

    Why: fragments such as the JSON location appear several times in one condition, and their
    parameters must be repeated in exactly the order the placeholders appear.
    """
    params: list[Any] = []

    def fill(match: re.Match[str]) -> str:
        sql, fragment_params = slots[match.group(1)]
        params.extend(fragment_params)
        return sql

    return _SLOT_RE.sub(fill, template), params


def _param(value: Any) -> _SqlPart:
    return "%s", [value]


def _sqlite_path(doc: _SqlPart, ref: _JsonRef) -> _SqlPart:
    """The SQLite JSON path (a SQL text expression) of ``ref`` within the document ``doc``.

    Case-insensitive keys are found with ``json_each`` over the parent object; the path is then rebuilt
    from the parent's path and the stored key, which equals an ASCII attribute name up to case and thus
    contains no character that is special in a path.
    """
    constant: str | None = "$"
    path: _SqlPart = _param("$")
    if ref.base is not None:
        # Only rows of an array have integer keys; ``fullkey`` is then the array path plus "[n]".
        constant = None
        path = (f"(CASE WHEN typeof({ref.base}.key) = 'integer' THEN {ref.base}.fullkey END)", [])
    for step in ref.steps:
        if step.alias is None:
            suffix = '."' + step.key + '"'
            if constant is not None:
                constant += suffix
                path = _param(constant)
            else:
                path = _fmt("(<<P>> || <<S>>)", P=path, S=_param(suffix))
            continue
        k = step.alias
        path = _fmt(
            # Only generated aliases are interpolated; every value and key is a parameter.
            f"(SELECT {k}.path || '.\"' || {k}.key || '\"' FROM json_each(<<D>>, <<P>>) AS {k} "  # noqa: S608
            f"WHERE typeof({k}.key) = 'text' AND lower({k}.key) = <<N>> "
            f"ORDER BY {k}.key = <<K>> DESC, {k}.key LIMIT 1)",
            D=doc,
            P=path,
            N=_param(_ascii_lower(step.key)),
            K=_param(step.key),
        )
        constant = None
    return path


_PG_OBJECT_OR_NULL: Final = """jsonb_path_query_first(<<V>>, 'strict $ ? (@.type() == "object")')"""
_PG_ARRAY_OR_NULL: Final = """jsonb_path_query_first(<<V>>, 'strict $ ? (@.type() == "array")')"""


def _pg_value(doc: _SqlPart, ref: _JsonRef) -> _SqlPart:
    """The PostgreSQL ``jsonb`` value at ``ref`` (SQL ``NULL`` when absent).

    Case-insensitive keys are found with ``jsonb_each`` over the parent, when it is an object;
    ``lower(... COLLATE "C")`` folds ASCII only, like SQLite, so both databases pick the same key.
    """
    value: _SqlPart = doc if ref.base is None else (f"{ref.base}.value", [])
    for step in ref.steps:
        if step.alias is None:
            value = _fmt("(<<V>> -> <<K>>)", V=value, K=_param(step.key))
            continue
        k = step.alias
        value = _fmt(
            # Only generated aliases are interpolated; every value and key is a parameter.
            f"(SELECT {k}.value FROM jsonb_each({_PG_OBJECT_OR_NULL}) AS {k} "  # noqa: S608
            f'WHERE lower({k}.key COLLATE "C") = <<N>> '
            f'ORDER BY {k}.key = <<K>> DESC, {k}.key COLLATE "C" LIMIT 1)',
            V=value,
            N=_param(_ascii_lower(step.key)),
            K=_param(step.key),
        )
    return value


_SQLITE_OPS: Final[dict[str, str]] = {
    "text": "NULLIF(CASE WHEN json_type(<<D>>, <<P>>) = 'text' THEN json_extract(<<D>>, <<P>>) END, '')",
    "present": (
        "COALESCE(json_type(<<D>>, <<P>>) NOT IN ('null', 'text', 'array', 'object') "
        "OR (json_type(<<D>>, <<P>>) = 'text' AND json_extract(<<D>>, <<P>>) <> '') "
        "OR (json_type(<<D>>, <<P>>) IN ('array', 'object') AND json_extract(<<D>>, <<P>>) NOT IN ('[]', '{}')), 0)"
    ),
    "defined": "COALESCE(json_type(<<D>>, <<P>>) <> 'null', 0)",
    "true": "COALESCE(json_type(<<D>>, <<P>>) = 'true', 0)",
    "false": "COALESCE(json_type(<<D>>, <<P>>) = 'false', 0)",
    "number": (
        "COALESCE(CASE WHEN json_type(<<D>>, <<P>>) IN ('integer', 'real') "
        "THEN json_extract(<<D>>, <<P>>) <<O>> <<N>> END, 0)"
    ),
}
_PG_OPS: Final[dict[str, str]] = {
    "text": "NULLIF(CASE WHEN jsonb_typeof(<<V>>) = 'string' THEN (<<V>> #>> '{}') END, '')",
    "present": (
        "COALESCE(jsonb_typeof(<<V>>) <> 'null' AND <<V>> NOT IN ('\"\"'::jsonb, '[]'::jsonb, '{}'::jsonb), false)"
    ),
    "defined": "COALESCE(jsonb_typeof(<<V>>) <> 'null', false)",
    "true": "COALESCE(<<V>> = 'true'::jsonb, false)",
    "false": "COALESCE(<<V>> = 'false'::jsonb, false)",
    "number": (
        "COALESCE(CASE WHEN jsonb_typeof(<<V>>) = 'number' "
        "THEN (<<V>> #>> '{}')::numeric <<O>> CAST(<<N>> AS numeric) END, false)"
    ),
}
_SQL_COMPARISONS: Final[dict[str, str]] = {"eq": "=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}


class _VendorExpression(Expression):
    """Base of the JSON expressions: SQL for SQLite and PostgreSQL only, chosen by Django per vendor."""

    def as_sql(self, compiler: Any, connection: Any) -> _SqlPart:
        raise NotSupportedError(f"SCIM filters on JSON attributes need SQLite or PostgreSQL, not {connection.vendor}")

    def as_sqlite(self, compiler: Any, connection: Any) -> _SqlPart:
        return self.render(compiler, "sqlite")

    def as_postgresql(self, compiler: Any, connection: Any) -> _SqlPart:
        return self.render(compiler, "postgresql")

    def render(self, compiler: Any, vendor: str) -> _SqlPart:
        raise NotImplementedError


class _JsonOp(_VendorExpression):
    """One operation on the JSON value at ``ref`` in the row's ``attributes``.

    ``op`` is ``"text"`` (the value if it is a non-empty JSON string, else ``NULL``: usable with ``Lower``,
    ``StrIndex``...), or a condition that is never ``NULL``: ``"present"`` (RFC 7644 §3.4.2.2 ``pr``),
    ``"defined"`` (not absent nor JSON null), ``"true"``/``"false"`` (a JSON boolean) and ``"number"``
    (a JSON number compared with ``number`` by ``comparison``).
    """

    def __init__(
        self,
        ref: _JsonRef,
        op: str,
        comparison: str | None = None,
        number: int | Decimal | None = None,
        root: Any = None,
    ) -> None:
        super().__init__(output_field=TextField() if op == "text" else BooleanField())
        self.ref = ref
        self.op = op
        self.comparison = comparison
        self.number = number
        self.root = F("attributes") if root is None else root

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.ref!r}, {self.op!r}, {self.comparison!r}, {self.number!r})"

    def get_source_expressions(self) -> list[Any]:
        return [self.root]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        (self.root,) = exprs

    def _number_param(self, vendor: str) -> Any:
        number = self.number
        # Django binds Decimal as text on SQLite (never equal to a number) and sqlite3 rejects huge ints. Through
        # Decimal, an int beyond a double's range becomes an infinity (float() of the int would raise): SQLite's
        # REAL compares with it as with any number.
        too_big = isinstance(number, int) and abs(number) > _SQLITE_MAX_INT
        if vendor == "sqlite" and (isinstance(number, Decimal) or too_big):
            return float(Decimal(number))  # type: ignore[arg-type]
        return number

    def render(self, compiler: Any, vendor: str) -> _SqlPart:
        doc = compiler.compile(self.root)
        extra: dict[str, _SqlPart] = {}
        if self.op == "number":
            extra = {"O": (_SQL_COMPARISONS[self.comparison or "eq"], []), "N": _param(self._number_param(vendor))}
        slot, located = ("P", _sqlite_path(doc, self.ref)) if vendor == "sqlite" else ("V", _pg_value(doc, self.ref))
        template = (_SQLITE_OPS if vendor == "sqlite" else _PG_OPS)[self.op]
        aliases = [step.alias for step in self.ref.steps if step.alias is not None]
        if not aliases:
            return _fmt(template, D=doc, **{slot: located}, **extra)
        # The operation uses the located value several times: compute a case-insensitive lookup once, in a
        # one-row derived table, instead of repeating its subqueries.
        x = f"{aliases[-1]}_x"
        column = "p" if vendor == "sqlite" else "v"
        operation = _fmt(template, D=doc, **{slot: (f"{x}.{column}", [])}, **extra)
        return _fmt(f"(SELECT <<O>> FROM (SELECT <<L>> AS {column}) AS {x})", O=operation, L=located)  # noqa: S608


class _JsonAny(_VendorExpression):
    """``EXISTS`` an element of the JSON array at ``ref`` for which ``condition`` holds.

    Why a custom expression: Django has no portable way to iterate a JSON array in SQL.  ``condition`` is
    a ``Q`` over :class:`_JsonOp` expressions whose ``_JsonRef.base`` is ``alias``; it is resolved like
    any ``Q`` and compiled inside the subquery.  A value that is not an array has no elements.
    """

    output_field = BooleanField()

    def __init__(self, ref: _JsonRef, alias: str, condition: Any, root: Any = None) -> None:
        super().__init__()
        self.ref = ref
        self.alias = alias
        self.condition = condition
        self.root = F("attributes") if root is None else root

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.ref!r}, {self.alias!r}, {self.condition!r})"

    def get_source_expressions(self) -> list[Any]:
        return [self.root, self.condition]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        self.root, self.condition = exprs

    def render(self, compiler: Any, vendor: str) -> _SqlPart:
        doc = compiler.compile(self.root)
        a = self.alias
        try:
            condition: _SqlPart | None = compiler.compile(self.condition)
        except FullResultSet:
            condition = None  # every element qualifies; EmptyResultSet propagates: no element can
        if vendor == "sqlite":
            where = f"typeof({a}.key) = 'integer'" + ("" if condition is None else " AND (<<W>>)")
            return _fmt(
                f"EXISTS (SELECT 1 FROM json_each(<<D>>, <<P>>) AS {a} WHERE {where})",  # noqa: S608 (aliases only)
                D=doc,
                P=_sqlite_path(doc, self.ref),
                W=condition or ("", []),
            )
        where = "" if condition is None else " WHERE <<W>>"
        return _fmt(
            f"EXISTS (SELECT 1 FROM jsonb_array_elements({_PG_ARRAY_OR_NULL}) AS {a}(value){where})",  # noqa: S608
            V=_pg_value(doc, self.ref),
            W=condition or ("", []),
        )


class _TwoValued(Func):
    """``COALESCE(condition, false)``: a comparison with a missing JSON value (SQL ``NULL``) is false.

    Why: SQL's ``NOT NULL`` is ``NULL``, so without this ``not (title eq "x")`` would skip users without a
    title, while RFC 7644 §3.4.2.2 ``not`` must be the exact complement.
    """

    function = "COALESCE"
    output_field = BooleanField()

    def __init__(self, condition: Any) -> None:
        super().__init__(condition, Value(False))


class _CodePointOrder(Func):
    """Order and compare strings by Unicode code point on both databases (RFC 7644 §3.4.2.3: no locale).

    SQLite's default ``BINARY`` collation already does; PostgreSQL needs ``COLLATE "C"``, otherwise the
    database locale decides (and ``a-b`` vs ``a_b`` would order differently than on SQLite).
    """

    arity = 1
    template = "%(expressions)s"

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> _SqlPart:
        return self.as_sql(compiler, connection, template='(%(expressions)s) COLLATE "C"', **extra_context)


# --------------------------------------------------------------------------------------------------
# Operands: one comparable value per resource or per element of a multi-valued attribute
# --------------------------------------------------------------------------------------------------

_Kind: TypeAlias = Literal["string", "boolean", "number", "dateTime", "id", "constant", "any"]


@dataclass(frozen=True)
class _Scalar:
    """Something a single comparison applies to, with the characteristics the comparison needs.

    Exactly one of ``column`` (a factory of a Django expression, for columns and related rows), ``json``
    (a location in ``attributes``) and ``constant`` (a value known without the database) is set.
    ``kind == "any"`` (unknown JSON attributes) takes its type from the comparison value.
    """

    label: str
    kind: _Kind
    case_exact: bool = False
    column: Callable[[], Any] | None = None
    json: _JsonRef | None = None
    constant: str | None = None
    nullable: bool = False
    blank: bool = False  # a column that stores "no value" as ""


def _describe(value: CompValue) -> str:
    """Show a comparison value as it was written in the filter, for error messages."""
    return to_string(Compare(AttrPath(None, "x"), "eq", value))[5:]


def _kind_name(kind: _Kind) -> str:
    return {"id": "identifier", "constant": "string", "any": "string"}.get(kind, kind)


def _operator_error(op: str, scalar: _Scalar, kind: _Kind | None = None) -> FilterCompileError:
    kind = kind or scalar.kind
    if scalar.kind == "any":
        noun = {"boolean": "a boolean value", "number": "a number"}.get(kind, f"a {kind} value")
        return FilterCompileError(f"the '{op}' operator cannot be used with {noun} (attribute '{scalar.label}')")
    hint = ""
    if kind == "boolean" or kind == "id":
        hint = "; use eq, ne or pr"
    elif kind == "dateTime":
        hint = "; use eq, ne, gt, ge, lt, le or pr"
    return FilterCompileError(
        f"the '{op}' operator cannot be used with the {_kind_name(kind)} attribute '{scalar.label}'{hint}"
    )


def _as_boolean(scalar: _Scalar, value: CompValue) -> bool:
    """A boolean comparison value; Entra ID sends ``true``, some clients the string ``"True"``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and _ascii_lower(value) in ("true", "false"):
        return _ascii_lower(value) == "true"
    raise FilterCompileError(
        f"'{scalar.label}' is a boolean attribute: compare it with true or false, not {_describe(value)}"
    )


def _as_string(scalar: _Scalar, op: str, value: CompValue) -> str:
    if isinstance(value, str):
        return value
    kind = _kind_name(scalar.kind)
    raise FilterCompileError(
        f"'{scalar.label}' is {'an' if kind[0] in 'aeiou' else 'a'} {kind} attribute: put the value in double quotes, "
        f"as in '{scalar.label} {op} \"{_describe(value)}\"'"
    )


def _parse_datetime(scalar: _Scalar, value: CompValue) -> tuple[datetime, datetime | None]:
    """The interval ``[start, end)`` a dateTime value (RFC 7643 §2.3.5, xsd:dateTime) stands for.

    Why an interval: ``meta.created eq "2011-05-13T04:42:34Z"`` should match the resource whose
    ``meta.created`` was rendered that way, although it is stored with microseconds.  ``end`` is ``None``
    at the end of the representable range.
    """
    text = value if isinstance(value, str) else None
    match = _DATETIME_RE.fullmatch(text) if text is not None else None
    example = '"2011-05-13T04:42:34Z"'
    if match is None:
        raise FilterCompileError(
            f"'{scalar.label}' is a dateTime attribute: compare it with an ISO 8601 dateTime in double "
            f"quotes such as {example}, not {_describe(value)}"
        )
    fraction = match.group("fraction") or ""
    tz_text = match.group("tz")
    try:
        start = datetime.strptime(f"{match.group('date')}T{match.group('time')}", "%Y-%m-%dT%H:%M:%S")
        start = start.replace(microsecond=int(fraction[:6].ljust(6, "0")) if fraction else 0)
        if tz_text is None or tz_text in ("Z", "z"):
            tzinfo: timezone = UTC
        else:
            hours, minutes = int(tz_text[1:3]), int(tz_text[4:6])
            if hours > 23 or minutes > 59:
                raise ValueError("bad offset")
            sign = -1 if tz_text[0] == "-" else 1
            tzinfo = timezone(sign * timedelta(hours=hours, minutes=minutes))
        start = start.replace(tzinfo=tzinfo).astimezone(UTC)
    except (ValueError, OverflowError):
        raise FilterCompileError(
            f"{_describe(value)} is not a valid dateTime for '{scalar.label}'; use ISO 8601 such as {example}"
        ) from None
    # The value's precision: a second without a fraction, down to the microsecond the database keeps.
    precision = timedelta(microseconds=10 ** max(0, 6 - len(fraction))) if fraction else timedelta(seconds=1)
    try:
        end: datetime | None = start + precision
    except OverflowError:
        end = None
    return start, end


def _present(scalar: _Scalar) -> Q:
    """RFC 7644 §3.4.2.2 ``pr``: not null, not an empty string, array or object."""
    if scalar.constant is not None:
        return _true() if scalar.constant else _false()
    if scalar.json is not None:
        return Q(_JsonOp(scalar.json, "present"))
    assert scalar.column is not None
    if scalar.kind in ("string", "any"):
        not_blank = ~Q(Exact(scalar.column(), Value("")))
        return Q(IsNull(scalar.column(), False)) & not_blank if scalar.nullable else not_blank
    return Q(IsNull(scalar.column(), False)) if scalar.nullable else _true()


def _condition(scalar: _Scalar, op: str, value: CompValue) -> Q:
    """Compile ``attr op value`` (or ``attr pr`` when ``op == "pr"``) for one operand, as a two-valued ``Q``."""
    if op == "pr":
        return _present(scalar)
    if value is None:
        if op == "eq":
            return ~_present(scalar)
        if op == "ne":
            return _present(scalar)
        raise FilterCompileError(
            f"the '{op}' operator cannot be used with null; write '{scalar.label} pr' to test for a value "
            f"or 'not ({scalar.label} pr)' for its absence"
        )
    if op == "ne":
        return ~_condition(scalar, "eq", value)
    kind = scalar.kind
    if kind == "any":
        kind = "boolean" if isinstance(value, bool) else "string" if isinstance(value, str) else "number"
    if kind == "boolean":
        if op != "eq":
            raise _operator_error(op, scalar, kind)
        expected = _as_boolean(scalar, value)
        if scalar.json is not None:
            return Q(_JsonOp(scalar.json, "true" if expected else "false"))
        assert scalar.column is not None
        return Q(Exact(scalar.column(), expected))
    if kind == "number":
        if op in _SUBSTRING_OPERATORS:
            raise _operator_error(op, scalar, kind)
        if not isinstance(value, int | Decimal) or isinstance(value, bool):
            raise FilterCompileError(f"'{scalar.label}' is a number attribute: compare it with a number")
        assert scalar.json is not None
        return Q(_JsonOp(scalar.json, "number", op, value))
    if kind == "dateTime":
        if op in _SUBSTRING_OPERATORS:
            raise _operator_error(op, scalar, kind)
        start, end = _parse_datetime(scalar, value)
        assert scalar.column is not None
        after_start = Q(GreaterThanOrEqual(scalar.column(), start))
        before_end = _true() if end is None else Q(LessThan(scalar.column(), end))
        return {
            "eq": after_start & before_end,
            "gt": _false() if end is None else Q(GreaterThanOrEqual(scalar.column(), end)),
            "ge": after_start,
            "lt": Q(LessThan(scalar.column(), start)),
            "le": before_end,
        }[op]
    text = _as_string(scalar, op, value)
    if kind == "id":
        if op != "eq":
            raise _operator_error(op, scalar, kind)
        if not _UUID_RE.fullmatch(text):
            return _false()  # every id this server assigns is a UUID
        assert scalar.column is not None
        return Q(Exact(scalar.column(), uuid.UUID(text)))
    if kind == "constant":
        assert scalar.constant is not None
        return _true() if _compare_constant(scalar.constant, op, text, scalar.case_exact) else _false()
    return _string_condition(scalar, op, text)


def _compare_constant(constant: str, op: str, value: str, case_exact: bool) -> bool:
    if not case_exact:
        constant, value = _ascii_lower(constant), _ascii_lower(value)
    return {
        "eq": constant == value,
        "co": value in constant,
        "sw": constant.startswith(value),
        "ew": constant.endswith(value),
        "gt": constant > value,
        "ge": constant >= value,
        "lt": constant < value,
        "le": constant <= value,
    }[op]


def _string_condition(scalar: _Scalar, op: str, value: str) -> Q:
    """String comparison honouring caseExact (RFC 7643 §2.2), without ``LIKE`` (see the module docstring).

    An empty string is no value, as for ``pr``: it never satisfies a comparison, and comparing with ``""``
    is a presence test (``eq ""`` is ``eq null``; every value contains, starts with and is greater than ``""``).
    """
    if not value:
        if op == "eq":
            return ~_present(scalar)
        return _present(scalar) if op in ("co", "sw", "ew", "gt", "ge") else _false()

    def operand() -> Any:
        if scalar.json is not None:
            return _JsonOp(scalar.json, "text")
        assert scalar.column is not None
        return scalar.column()

    lhs = operand() if scalar.case_exact else Lower(operand())
    rhs = Value(value) if scalar.case_exact else Lower(Value(value))
    if op == "eq":
        condition: Any = Exact(lhs, rhs)
    elif op in _SUBSTRING_OPERATORS:
        condition = {
            "co": lambda: GreaterThan(StrIndex(lhs, rhs), 0),
            "sw": lambda: Exact(StrIndex(lhs, rhs), 1),
            "ew": lambda: Exact(Right(lhs, Length(rhs)), rhs),
        }[op]()
    else:
        lookup = {"gt": GreaterThan, "ge": GreaterThanOrEqual, "lt": LessThan, "le": LessThanOrEqual}[op]
        condition = lookup(_CodePointOrder(lhs), _CodePointOrder(rhs))
    if scalar.json is not None:  # the JSON text is NULL when absent or ""
        return Q(_TwoValued(condition))
    result = Q(condition)
    if scalar.blank and op in _ORDERING_OPERATORS:  # "" < "a": keep columns without a value out
        result &= ~Q(Exact(operand(), Value("")))
    return Q(IsNull(operand(), False)) & result if scalar.nullable else result


# --------------------------------------------------------------------------------------------------
# Collections: multi-valued attributes, compiled to EXISTS over their values
# --------------------------------------------------------------------------------------------------


class _Collection:
    """The values of a multi-valued attribute (RFC 7643 §2.4): each filter on it is an ``EXISTS``."""

    label: str

    def element(self, sub: str | None, label: str) -> _Scalar:
        """The sub-attribute ``sub`` (``None``: ``value``) of one value, for conditions inside :meth:`exists`."""
        raise NotImplementedError

    def exists(self, condition: Q | None) -> Q:
        """Some value satisfies ``condition`` (``None``: there is a value)."""
        raise NotImplementedError

    def present(self) -> Q:
        return self.exists(None)


class _EmailRows(_Collection):
    """``emails`` through the indexed ``RealmEmail`` rows (value and type caseExact false)."""

    SUBS: Final = {"value": "value", "type": "type", "primary": "primary"}

    def __init__(self, label: str) -> None:
        self.label = label

    @classmethod
    def handles(cls, sub: str | None) -> bool:
        return sub is None or _ascii_lower(sub) in cls.SUBS

    def element(self, sub: str | None, label: str) -> _Scalar:
        name = self.SUBS[_ascii_lower(sub or "value")]
        if name == "primary":
            return _Scalar(label, "boolean", column=lambda: F("primary"))
        return _Scalar(label, "string", column=lambda: F(name), blank=True)

    def exists(self, condition: Q | None) -> Q:
        rows = _models().RealmEmail.objects.filter(user=OuterRef("pk"))
        return Q(Exists(rows if condition is None else rows.filter(condition)))


class _Memberships(_Collection):
    """``groups`` of a User or ``members`` of a Group, through ``RealmGroupMembership`` (RFC 7643 §4.1.2, §4.2).

    The subquery is also restricted to the resource's realm, so a membership row can never make a
    resource match through a group or user of another realm.
    """

    def __init__(self, resource_type: str, label: str) -> None:
        self.resource_type = resource_type
        self.label = label

    def element(self, sub: str | None, label: str) -> _Scalar:
        name = _ascii_lower(sub or "value")
        user_side = self.resource_type == "User"
        if name == "value":
            return _Scalar(label, "id", column=lambda: F("group_id" if user_side else "user_id"))
        if name == "display":
            if user_side:
                return _Scalar(label, "string", column=lambda: F("group__display_name"))
            return _Scalar(
                label,
                "string",
                column=lambda: Coalesce(NullIf(F("user__display_name"), Value("")), F("user__username")),
            )
        if name == "type":  # only direct memberships exist, and only users are members
            return _Scalar(label, "constant", constant="direct" if user_side else "User")
        attribute = "groups" if user_side else "members"
        if name == "$ref":
            raise FilterCompileError(
                f"filtering on '{attribute}.$ref' is not supported; filter on '{attribute}.value' instead"
            )
        raise FilterCompileError(
            f"'{attribute}' has no sub-attribute '{sub}'; its sub-attributes are value, display, type and $ref"
        )

    def exists(self, condition: Q | None) -> Q:
        memberships = _models().RealmGroupMembership.objects
        if self.resource_type == "User":
            rows = memberships.filter(user=OuterRef("pk"), group__realm=OuterRef("realm"))
        else:
            rows = memberships.filter(group=OuterRef("pk"), user__realm=OuterRef("realm"))
        return Q(Exists(rows if condition is None else rows.filter(condition)))


class _JsonArray(_Collection):
    """A multi-valued attribute stored as a JSON array of objects in ``attributes``.

    ``definition`` (RFC 7643) types the sub-attributes; ``canonical`` says whether known sub-attributes
    are stored under their canonical names (core attributes) or must be matched case-insensitively.
    """

    def __init__(
        self,
        compiler: _Compiler,
        ref: _JsonRef,
        label: str,
        definition: Attribute | None,
        *,
        canonical: bool,
    ) -> None:
        self.compiler = compiler
        self.ref = ref
        self.label = label
        self.definition = definition
        self.canonical = canonical
        self.alias = compiler.alias("e")

    def element_ref(self) -> _JsonRef:
        return _JsonRef(base=self.alias)

    def element(self, sub: str | None, label: str) -> _Scalar:
        name = sub or "value"
        definition = self.definition.sub_attribute(name) if self.definition is not None else None
        if definition is None:
            step = self.compiler.step(name, case_insensitive=True)
            return _Scalar(label, "any", json=self.element_ref().child(step))
        step = self.compiler.step(definition.name, case_insensitive=not self.canonical)
        return _json_scalar(label, definition, self.element_ref().child(step))

    def exists(self, condition: Q | None) -> Q:
        return Q(_JsonAny(self.ref, self.alias, condition if condition is not None else _true()))

    def present(self) -> Q:
        return Q(_JsonOp(self.ref, "present"))


def _json_scalar(label: str, definition: Attribute, ref: _JsonRef) -> _Scalar:
    """A known single-valued JSON attribute, typed from its RFC 7643 definition."""
    if definition.type == "boolean":
        return _Scalar(label, "boolean", json=ref)
    if definition.type in ("integer", "decimal"):
        return _Scalar(label, "number", json=ref)
    return _Scalar(label, "string", case_exact=_case_exact(definition), json=ref)


def _case_exact(definition: Attribute) -> bool:
    """caseExact per RFC 7643: as defined, plus ``$ref`` (a URI) and binary values (§2.3.6 "case exact")."""
    return definition.case_exact or definition.name == "$ref" or definition.type == "binary"


# --------------------------------------------------------------------------------------------------
# Targets: what an attribute path resolves to
# --------------------------------------------------------------------------------------------------


class _Target:
    """A resolved attribute path (RFC 7644 §3.10) that a comparison, ``pr`` or a value filter applies to."""

    label: str

    def compare(self, op: str, value: CompValue) -> Q:
        raise NotImplementedError

    def collection(self) -> _Collection:
        """The values a value filter ``[...]`` iterates over."""
        raise FilterCompileError(
            f"'{self.label}' is not a multi-valued attribute, so it cannot take a value filter '[...]'; "
            f"compare it directly, as in '{self.label} eq \"...\"'"
        )

    def sort_key(self) -> Any:
        raise FilterCompileError(f"sorting by '{self.label}' is not supported")


class _ScalarTarget(_Target):
    def __init__(self, scalar: _Scalar) -> None:
        self.scalar = scalar
        self.label = scalar.label

    def compare(self, op: str, value: CompValue) -> Q:
        return _condition(self.scalar, op, value)

    def sort_key(self) -> Any:
        scalar = self.scalar
        if scalar.constant is not None:
            return None
        if scalar.kind in ("string", "any"):
            text = _JsonOp(scalar.json, "text") if scalar.json is not None else scalar.column()  # type: ignore[misc]
            key = text if scalar.case_exact else Lower(text)
            return _CodePointOrder(NullIf(key, Value("")))
        if scalar.column is not None:
            return scalar.column()
        raise FilterCompileError(f"sorting by the {scalar.kind} attribute '{self.label}' is not supported")


class _CollectionTarget(_Target):
    """``attr`` or ``attr.sub`` of a multi-valued attribute: true when some value matches (RFC 7644 §3.4.2.2)."""

    def __init__(self, collection: _Collection, sub: str | None, label: str) -> None:
        self._collection = collection
        self.sub = sub
        self.label = label

    def compare(self, op: str, value: CompValue) -> Q:
        if op == "pr" and self.sub is None:
            return self._collection.present()
        if value is None and op in ("eq", "ne"):
            present = self.compare("pr", None)
            return ~present if op == "eq" else present
        if op == "ne":  # no value is equal: the complement of "eq", absent attributes included
            return ~self.compare("eq", value)
        return self._collection.exists(_condition(self._collection.element(self.sub, self.label), op, value))

    def collection(self) -> _Collection:
        if self.sub is not None:
            raise FilterCompileError(
                f"a value filter applies to a whole multi-valued attribute, not to '{self.label}'; "
                f"write it as '{self._collection.label}[{self.sub} ...]'"
            )
        return self._collection

    def sort_key(self) -> Any:
        if isinstance(self._collection, _EmailRows) and (self.sub is None or _ascii_lower(self.sub) == "value"):
            emails = _models().RealmEmail.objects.filter(user=OuterRef("pk")).order_by("-primary", "pk")
            return _CodePointOrder(Subquery(emails.annotate(sort_value=Lower("value")).values("sort_value")[:1]))
        raise FilterCompileError(
            f"sorting by the multi-valued attribute '{self.label}' is not supported; sort by a "
            "single-valued attribute such as userName, displayName or emails"
        )


class _LaxTarget(_Target):
    """An attribute this server does not know: JSON, matched whether it holds a value or an array of them."""

    def __init__(self, compiler: _Compiler, ref: _JsonRef, sub: str | None, label: str) -> None:
        self.compiler = compiler
        self.ref = ref
        self.sub = sub
        self.label = label

    def _array(self) -> _JsonArray:
        return _JsonArray(self.compiler, self.ref, self.label, None, canonical=False)

    def _scalar(self, ref: _JsonRef) -> _Scalar:
        return _Scalar(self.label, "any", json=ref)

    def compare(self, op: str, value: CompValue) -> Q:
        if value is None and op in ("eq", "ne"):
            present = self.compare("pr", None)
            return ~present if op == "eq" else present
        if op == "ne":
            return ~self.compare("eq", value)
        step = self.compiler.step
        array = self._array()
        if self.sub is None:
            if op == "pr":
                return _condition(self._scalar(self.ref), op, value)
            direct = _condition(self._scalar(self.ref), op, value) | _condition(
                self._scalar(self.ref.child(step("value", case_insensitive=True))), op, value
            )
            element = _condition(self._scalar(array.element_ref()), op, value) | _condition(
                array.element(None, self.label), op, value
            )
            return direct | array.exists(element)
        direct = _condition(self._scalar(self.ref.child(step(self.sub, case_insensitive=True))), op, value)
        return direct | array.exists(_condition(array.element(self.sub, self.label), op, value))

    def collection(self) -> _Collection:
        if self.sub is not None:
            return super().collection()
        return self._array()

    def sort_key(self) -> Any:
        ref = self.ref if self.sub is None else self.ref.child(self.compiler.step(self.sub, case_insensitive=True))
        return _ScalarTarget(self._scalar(ref)).sort_key()


class _ComplexTarget(_Target):
    """A single-valued complex attribute named without a sub-attribute (``name``, ``manager``, ``meta``)."""

    def __init__(self, definition: Attribute, label: str, presence: Q, value: _Target | None) -> None:
        self.definition = definition
        self.label = label
        self.presence = presence
        self.value = value

    def compare(self, op: str, value: CompValue) -> Q:
        if op == "pr":
            return self.presence
        if self.value is not None:  # "manager eq ..." means manager.value, as for multi-valued attributes
            return self.value.compare(op, value)
        subs = ", ".join(sub.name for sub in self.definition.sub_attributes)
        example = self.definition.sub_attributes[0].name
        raise FilterCompileError(
            f"'{self.label}' is a complex attribute: compare one of its sub-attributes ({subs}), "
            f"as in '{self.label}.{example} {op} ...'"
        )


class _SchemasTarget(_Target):
    """``schemas`` (RFC 7643 §3): the core schema always, an extension when its URN key is in ``attributes``."""

    def __init__(self, compiler: _Compiler, label: str) -> None:
        self.compiler = compiler
        self.label = label

    def compare(self, op: str, value: CompValue) -> Q:
        if op == "pr":
            return _true()
        if op not in ("eq", "ne"):
            raise FilterCompileError(f"the '{op}' operator cannot be used with 'schemas'; use eq, ne or pr")
        if not isinstance(value, str):
            raise FilterCompileError(
                f"'schemas' holds schema URNs: compare it with a URN in double quotes, not {_describe(value)}"
            )
        matches = self._has(value)
        return matches if op == "eq" else ~matches

    def _has(self, urn: str) -> Q:
        folded = urn.casefold()
        if folded == _CORE_URNS[self.compiler.resource_type].casefold():
            return _true()
        if folded in (u.casefold() for u in _CORE_URNS.values()) or not _SAFE_KEY_RE.fullmatch(urn):
            return _false()
        return Q(_JsonOp(_JsonRef((self.compiler.step(urn, case_insensitive=True),)), "defined"))


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
