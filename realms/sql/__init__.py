"""Hand-written SQL for the hot path, through Django's documented APIs only.

Every SCIM call reads a token with its user, permissions and realm, and then one resource or one IdP lookup; a
write saves a row, its emails and an audit event. Building those querysets and compiling them to SQL took more
Python time than PostgreSQL took to run them (docs/performance.md), so the few statements of the hot path are
written by hand (`realms/sql/queries.py`, `realms/sql/token_query.py`) with what this module provides:

- `Columns`: a model's columns in a SELECT, from the documented `_meta` API (`get_fields()`, `db_table`, each
  field's `column` and `attname`), quoted by `connection.ops.quote_name`, and the instances built from a row with
  `Model.from_db()`;
- `convert`: a value read through `connection.cursor()` turned into what the ORM gives for that field, on SQLite
  as on PostgreSQL (aware datetimes with USE_TZ, `uuid.UUID`, `bool`, decoded JSON), with the documented Field API
  (`get_internal_type()`, `to_python()`, `from_db_value()`);
- `statement`: each SQL text built once per process and database vendor, so that the text is stable from call to
  call (psycopg's server-side binding then prepares it: PostgreSQL plans it once per connection);
- `writes.py`: `save_together`, the INSERTs and UPDATEs of one write as one statement on PostgreSQL (data-modifying
  CTEs), and `save_if_version`, Okta's PUT as a compare and swap, the values prepared by the fields themselves
  (`pre_save()`, `get_db_prep_save()`) as `save()` prepares them.

Parameters always go through the fields' `get_db_prep_value()`/`get_db_prep_save()` (a UUID is a `uuid` on
PostgreSQL, 32 hex digits on SQLite); only table and column names from `_meta`, quoted, are written into the SQL.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import re
import threading
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.transaction import TransactionManagementError

# ---------------------------------------------------------------------------------------------- columns and values


def table_fields(model: type[models.Model], exclude: Iterable[str] = ()) -> tuple[models.Field, ...]:
    """The model's columns, in the order `Model.from_db()` takes them (the order of `_meta.get_fields()`).

    Multi-table inheritance is refused: a parent's columns are in another table, which these statements do not join.
    """
    excluded = set(exclude)
    fields = []
    for field in model._meta.get_fields():
        if not getattr(field, "concrete", False) or field.many_to_many or field.column is None:
            continue
        if field.model._meta.db_table != model._meta.db_table:
            raise ValueError(f"{model._meta.label}: multi-table inheritance is not supported by realms.sql")
        if field.name not in excluded:
            fields.append(field)
    return tuple(fields)


# Types whose values SQLite returns in another type than the ORM's: text for UUIDs, dates, times and datetimes, 0/1
# for booleans computed in SQL. PostgreSQL (psycopg, configured by Django's connection) returns them as the ORM does.
_TO_PYTHON_TYPES = frozenset({"UUIDField", "BooleanField", "DateField", "TimeField", "DateTimeField"})


@functools.cache
def _zone(name: str | None) -> datetime.tzinfo:
    return zoneinfo.ZoneInfo(name) if name else datetime.UTC


def _database_timezone(alias: str) -> datetime.tzinfo:
    """The time zone naive datetimes are stored in (DATABASES[alias]["TIME_ZONE"], UTC by default)."""
    return _zone(settings.DATABASES.get(alias, {}).get("TIME_ZONE"))


def converter(field: models.Field, connection: Any) -> Callable[[Any, Any], Any] | None:
    """How a non-NULL value of `field`, as `connection.cursor()` returns it, becomes the ORM's value: a function of
    (value, connection), or None when the value is already the ORM's.

    The database's own form first (SQLite: `to_python()`, which parses text and, for a foreign key, converts as its
    target field does; naive datetimes made aware with USE_TZ, as the ORM does), then the field's `from_db_value()`
    if it has one (JSONField decodes its text on both databases), given the field itself as `expression`: the value
    is a whole column, not an expression over it (JSONField tells key transforms apart by that argument).
    """
    steps: list[Callable[[Any, Any], Any]] = []
    if connection.vendor != "postgresql":
        internal_type = field.get_internal_type()
        if field.is_relation or internal_type in _TO_PYTHON_TYPES:
            to_python = field.to_python
            steps.append(lambda value, connection: to_python(value))
        if internal_type == "DecimalField":  # a REAL: 15 significant digits, then the field's decimal places
            steps.append(_decimal(field.decimal_places))
        if internal_type == "DurationField":  # stored as microseconds
            steps.append(lambda value, connection: _as_timedelta(value))
        if internal_type == "DateTimeField":
            steps.append(_aware)
    if hasattr(field, "from_db_value"):
        from_db_value = field.from_db_value
        steps.append(lambda value, connection: from_db_value(value, field, connection))
    if len(steps) <= 1:
        return steps[0] if steps else None

    def convert_all(value: Any, connection: Any) -> Any:
        for step in steps:
            value = step(value, connection)
        return value

    return convert_all


def _decimal(places: int) -> Callable[[Any, Any], decimal.Decimal]:
    create = decimal.Context(prec=15).create_decimal_from_float
    exponent = decimal.Decimal(1).scaleb(-places)

    def to_decimal(value: Any, connection: Any) -> decimal.Decimal:
        number = create(value) if isinstance(value, float) else decimal.Decimal(value)
        return number.quantize(exponent)

    return to_decimal


def _as_timedelta(value: Any) -> datetime.timedelta:
    return value if isinstance(value, datetime.timedelta) else datetime.timedelta(microseconds=value)


def _aware(value: datetime.datetime, connection: Any) -> datetime.datetime:
    """A naive datetime from the database made aware in the database's time zone when USE_TZ (as the ORM does)."""
    if value.tzinfo is not None or not settings.USE_TZ:
        return value
    return value.replace(tzinfo=_database_timezone(connection.alias))


def convert(field: models.Field, value: Any, connection: Any) -> Any:
    """`value` of `field` read through a raw cursor, as the ORM would give it (NULL stays None)."""
    if value is None:
        return None
    function = converter(field, connection)
    return value if function is None else function(value, connection)


def param(model: type[models.Model], field_name: str, value: Any, connection: Any) -> Any:
    """A query parameter compared with `model.field_name` ("pk": the primary key), in the form the database takes."""
    field = model._meta.pk if field_name == "pk" else model._meta.get_field(field_name)
    return field.get_db_prep_value(value, connection, prepared=False)


class Columns:
    """Some columns of one model in a hand-written SELECT, and the instance a row of them is."""

    def __init__(self, model: type[models.Model], exclude: Iterable[str] = ()) -> None:
        self.model = model
        self.exclude = tuple(exclude)
        self._converters: dict[tuple[str, str], tuple[tuple[int, Callable[[Any, Any], Any]], ...]] = {}

    # Read from _meta on first use, when the app registry is ready (instances may be made at import time).
    @functools.cached_property
    def fields(self) -> tuple[models.Field, ...]:
        return table_fields(self.model, self.exclude)

    @functools.cached_property
    def attnames(self) -> tuple[str, ...]:
        return tuple(field.attname for field in self.fields)

    @functools.cached_property
    def pk_index(self) -> int | None:
        return next((i for i, f in enumerate(self.fields) if f.primary_key), None)

    def __len__(self) -> int:
        return len(self.fields)

    def sql(self, connection: Any) -> str:
        """`"table"."column", …`, the columns qualified by the model's table (never aliased in these statements)."""
        qn = connection.ops.quote_name
        prefix = qn(self.model._meta.db_table)
        return ", ".join(f"{prefix}.{qn(field.column)}" for field in self.fields)

    def _converters_for(self, connection: Any) -> tuple[tuple[int, Callable[[Any, Any], Any]], ...]:
        key = (connection.alias, connection.vendor)
        found = self._converters.get(key)
        if found is None:
            built = ((i, converter(field, connection)) for i, field in enumerate(self.fields))
            found = self._converters[key] = tuple((i, function) for i, function in built if function is not None)
        return found

    def values(self, row: Sequence[Any], connection: Any) -> list[Any]:
        """The row's values as the ORM gives them."""
        values = list(row)
        for i, function in self._converters_for(connection):
            if values[i] is not None:
                values[i] = function(values[i], connection)
        return values

    def instance(self, row: Sequence[Any], connection: Any) -> Any:
        """The model instance of `row` (these columns, in order), as a queryset would have built it."""
        return self.model.from_db(connection.alias, self.attnames, self.values(row, connection))


# ---------------------------------------------------------------------------------------------- statement texts

_TEXTS: dict[tuple[Any, ...], str] = {}
_TEXTS_LOCK = threading.Lock()


def statement(key: tuple[Any, ...], connection: Any, build: Callable[[Any], str]) -> str:
    """The SQL text `build(connection)` for `key`, built once per process and database vendor.

    A stable text is what psycopg prepares on the server (PREPARE_THRESHOLD): PostgreSQL then plans it once per
    connection instead of on every call. `key` must name everything the text depends on besides the vendor.
    """
    full_key = (*key, connection.vendor)
    text = _TEXTS.get(full_key)
    if text is None:
        text = build(connection)
        with _TEXTS_LOCK:
            text = _TEXTS.setdefault(full_key, text)
    return text


_PLACEHOLDERS = re.compile(r"%%|%s")
_NAMES = tuple(f"p{i}" for i in range(256))


@functools.lru_cache(maxsize=512)  # the texts of `statement`: a few dozen per process
def _named(sql: str) -> str:
    """`sql` with its `%s` placeholders named `%(p0)s`, `%(p1)s`, … in order (a literal `%%` stays as it is)."""
    numbers = iter(range(len(sql)))
    return _PLACEHOLDERS.sub(lambda m: m.group() if m.group() == "%%" else f"%(p{next(numbers)})s", sql)


def execute(connection: Any, cursor: Any, sql: str, params: Sequence[Any]) -> None:
    """`cursor.execute(sql, params)` for a hand-written statement with `%s` placeholders.

    On SQLite the parameters go by name: Django's SQLite cursor turns `%s` into `?` with a regular expression over
    the whole text on every call (30 to 60 µs for the token's 2 KB statement, as long as SQLite takes to run it),
    named ones with one string formatting (docs/performance-history.md). Both are the DB-API styles Django documents
    for `cursor.execute()`; the text of each statement is converted once per process."""
    if params and connection.vendor == "sqlite":
        names = _NAMES if len(params) <= len(_NAMES) else tuple(f"p{i}" for i in range(len(params)))
        cursor.execute(_named(sql), dict(zip(names, params, strict=False)))
    else:
        cursor.execute(sql, params)


def fetch(sql: str, params: Sequence[Any], using: str = DEFAULT_DB_ALIAS) -> list[tuple[Any, ...]]:
    """The rows of one hand-written query, through Django's cursor (query logging, instrumentation, wrappers)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        execute(connection, cursor, sql, params)
        return cursor.fetchall()


def require_transaction(using: str = DEFAULT_DB_ALIAS) -> None:
    """A locking read (FOR UPDATE) needs a transaction to hold its lock in, as `select_for_update()` does."""
    if transaction.get_autocommit(using):
        raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")


def for_update_of(connection: Any, table: str) -> str:
    """The clause locking the rows read from `table` only (`select_for_update(of=("self",))`); SQLite has no row
    locks (a write transaction locks the database)."""
    if connection.vendor == "sqlite":
        return ""
    if connection.vendor == "postgresql":
        return f" FOR UPDATE OF {table}"
    return " FOR UPDATE"
