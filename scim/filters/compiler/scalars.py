"""One comparison on one value (RFC 7644 §3.4.2.2): ``attr op value`` or ``attr pr`` as a two-valued ``Q``.

A :class:`_Scalar` is something a single comparison applies to (a column, a related row's column, a location in
the JSON document, or a constant), with what the comparison needs to know: its type and ``caseExact``.
:func:`_condition` compiles an operator and a value for it: strings (caseExact, no ``LIKE``), booleans (Entra ID's
``"True"`` too), numbers, dateTimes (the interval their precision covers), ids (UUIDs) and ``pr``.  The semantics
are listed in :mod:`scim.filters.compiler`'s docstring.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Final, Literal, TypeAlias

from django.db.models import Q, Value
from django.db.models.functions import Length, Lower, Right, StrIndex
from django.db.models.lookups import Exact, GreaterThan, GreaterThanOrEqual, IsNull, LessThan, LessThanOrEqual

from realms.datetimes import for_db
from scim.filters.compiler.errors import FilterCompileError
from scim.filters.compiler.sql import _ascii_lower, _CodePointOrder, _JsonOp, _JsonRef, _TwoValued
from scim.filters.syntax import AttrPath, Compare, CompValue, to_string

_ORDERING_OPERATORS: Final = ("gt", "ge", "lt", "le")
_SUBSTRING_OPERATORS: Final = ("co", "sw", "ew")
_UUID_RE: Final = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATETIME_RE: Final = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]+))?(?P<tz>[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def _true() -> Q:
    """A condition that holds for every row (Django drops it from the WHERE clause)."""
    return ~Q(pk__in=[])


def _false() -> Q:
    """A condition that holds for no row (Django short-circuits it)."""
    return Q(pk__in=[])


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
    # Compared with a column as the ORM takes it: naive in TIME_ZONE when the host has USE_TZ = False.
    return for_db(start), None if end is None else for_db(end)


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
