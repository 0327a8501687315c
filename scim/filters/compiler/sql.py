"""JSON paths in SQL, per database: the only place where the compiler writes SQL text.

What lives in the ``attributes`` JSON document is reached through small Django expressions (:class:`_JsonOp`,
:class:`_JsonAny`) that Django renders per vendor (``as_sqlite``/``as_postgresql``): ``json_type``,
``json_extract`` and ``json_each`` on SQLite, ``jsonb`` operators, ``jsonb_each`` and ``jsonb_array_elements``
on PostgreSQL.  Every value and every JSON key that comes from a filter is a query parameter; only aliases the
compiler generates are interpolated.  :class:`_TwoValued` and :class:`_CodePointOrder` are the two other
expressions the comparisons need (no SQL ``NULL``; code-point order on both databases).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, TypeAlias

from django.core.exceptions import FullResultSet
from django.db import NotSupportedError
from django.db.models import BooleanField, Expression, F, Func, TextField, Value

_ASCII_LOWER: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# What the parser lets through (RFC 7644 §3.4.2.2 ATTRNAME and URNs); re-checked here because these strings
# end up as JSON keys, and a '"' or '\\' would change the meaning of a SQLite JSON path.
_ATTRNAME_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]*|\$[Rr][Ee][Ff]")
_SAFE_KEY_RE: Final = re.compile(r'[^"\\\x00-\x1f\x7f]+')
_SQLITE_MAX_INT: Final = 2**63 - 1


def _ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only, like PostgreSQL's ``lower()`` under ``"C"``: for attribute names and keywords,
    which are ASCII (RFC 7643 §2.1 ATTRNAME). Values fold every letter on both databases (realms.receivers)."""
    return text.translate(_ASCII_LOWER)


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
