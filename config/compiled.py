"""Querysets compiled to SQL once per process, for the few queries that every SCIM call runs.

Django compiles a queryset to SQL each time it is evaluated. For the token, realm, user and lookup queries that
every SCIM call makes, that compilation cost more Python time than the database spent running them (about 0.3 to
0.6 ms per query against 0.05 to 0.1 ms in PostgreSQL; docs/performance.md). A `CompiledQuery` asks the ORM once
per process and database for the SQL of a queryset built from placeholder arguments, finds the bound parameters
the placeholders became, and afterwards runs that SQL with the real arguments, building model instances the way
Django's own iterable does (same columns, converters, select_related objects and annotations). The SQL is the
ORM's, not written by hand, so it follows the models, the database vendor and the migrations.

A placeholder must come through compilation unchanged: if one is missing from the parameters, or shows up
transformed (inside a longer string, say a LIKE pattern or JSON), the queryset is not a template of its
arguments and `Uncompilable` is raised; callers that build querysets from user input (the SCIM filter fast path)
fall back to the ORM then.

Also here: `CompiledJoin`, two compiled queries in one statement, and `save_together`, the INSERTs and UPDATEs
of one write as one statement on PostgreSQL. Its INSERT texts are the ORM's; its UPDATE text (every column of a
row, by primary key, as `save()` writes it) is generated from the model's `_meta`, with values prepared by the
fields themselves.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Q, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql import InsertQuery, UpdateQuery
from django.db.transaction import TransactionManagementError


class Uncompilable(Exception):
    """The queryset's SQL does not take the placeholders as plain parameters: it cannot be reused."""


# Placeholders: text that no lower-/upper-casing changes (digits and a non-letter sign), unlikely in any SQL.
_TEXT_MARK = "\u00a7\u00a7{}\u00a7\u00a7"
_UUID_BASE = 0x5C1A_0000_0000_0000_0000_0000_0000_0000


def _placeholder(kind: str, index: int) -> Any:
    if kind == "str":
        return _TEXT_MARK.format(7310 + index)
    if kind == "uuid":
        return uuid.UUID(int=_UUID_BASE + index)
    raise ValueError(f"Unknown placeholder kind {kind!r}: use 'str' or 'uuid'.")


def _same(param: Any, placeholder: Any) -> bool:
    return type(param) is type(placeholder) and param == placeholder


def _as_uuid_hex(value: uuid.UUID) -> str:
    return value.hex


def _as_is(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class _Plan:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[tuple[int, ...], Callable[[Any], Any]], ...]  # per argument: its positions and db form
    for_update: bool
    model: Any
    init_list: tuple[str, ...]
    model_slice: slice
    related_populators: tuple[Any, ...]
    annotations: tuple[tuple[str, int], ...]
    converters: tuple[tuple[int, tuple[Callable, ...], Any], ...]
    width: int  # columns per row
    pk_index: int  # the column of the model's primary key


class CompiledQuery:
    """`build(*args)` → a queryset, compiled once per database; `fetch(*args)` runs it with new arguments.

    `kinds` names each argument's type, "str" or "uuid" (what the placeholders are made of). Every other
    input of the queryset (limits, ordering, the shape of the filter) must be fixed: it is part of the SQL.
    """

    def __init__(self, build: Callable[..., QuerySet], kinds: Sequence[str]) -> None:
        self.build = build
        self.kinds = tuple(kinds)
        self._plans: dict[tuple[str, str], _Plan] = {}
        self._lock = threading.Lock()

    def _plan(self, connection: Any) -> _Plan:
        key = (connection.alias, connection.vendor)
        plan = self._plans.get(key)
        if plan is None:
            with self._lock:
                plan = self._plans.get(key) or self._compile(connection)
                self._plans[key] = plan
        return plan

    def _compile(self, connection: Any) -> _Plan:
        placeholders = [_placeholder(kind, i) for i, kind in enumerate(self.kinds)]
        queryset = self.build(*placeholders)
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()  # refuses select_for_update outside a transaction, as the ORM does
        params = tuple(params)
        slots = []
        for placeholder in placeholders:
            forms: list[tuple[Any, Callable[[Any], Any]]] = [(placeholder, _as_is)]
            if isinstance(placeholder, uuid.UUID):
                forms.append((placeholder.hex, _as_uuid_hex))
            for form, to_db in forms:
                positions = tuple(i for i, p in enumerate(params) if _same(p, form))
                if positions:
                    slots.append((positions, to_db))
                    break
            else:
                raise Uncompilable(f"the placeholder {placeholder!r} is not a parameter of the query")
        used = {i for positions, _ in slots for i in positions}
        texts = [str(p) for p in placeholders] + [p.hex for p in placeholders if isinstance(p, uuid.UUID)]
        for i, param in enumerate(params):
            if i not in used and any(text in str(param) for text in texts):
                raise Uncompilable(f"a placeholder is transformed into the parameter {param!r}")
        if any(text in sql for text in texts):
            raise Uncompilable("a placeholder is written into the SQL text")
        select, klass_info, annotation_col_map = compiler.select, compiler.klass_info, compiler.annotation_col_map
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        fields = [s[0] for s in select[0 : compiler.col_count]]
        converters = compiler.get_converters(fields)
        return _Plan(
            sql=sql,
            params=params,
            slots=tuple(slots),
            for_update=bool(queryset.query.select_for_update),
            model=klass_info["model"],
            init_list=tuple(f[0].target.attname for f in select[start:end]),
            model_slice=slice(start, end),
            related_populators=tuple(get_related_populators(klass_info, select, connection.alias)),
            annotations=tuple((annotation_col_map or {}).items()),
            converters=tuple((pos, tuple(convs), expr) for pos, (convs, expr) in converters.items()),
            width=compiler.col_count,
            pk_index=start
            + [f[0].target.attname for f in select[start:end]].index(klass_info["model"]._meta.pk.attname),
        )

    def _params(self, plan: _Plan, args: Sequence[Any]) -> list[Any]:
        if len(args) != len(self.kinds):
            raise TypeError(f"expected {len(self.kinds)} arguments, got {len(args)}")
        params = list(plan.params)
        for arg, (positions, to_db) in zip(args, plan.slots, strict=True):
            value = to_db(arg)
            for position in positions:
                params[position] = value
        return params

    def fetch(self, *args: Any, using: str = DEFAULT_DB_ALIAS) -> list[Any]:
        """The model instances the queryset built from `args` would give, in its order."""
        connection = connections[using]
        plan = self._plan(connection)
        params = self._params(plan, args)
        if plan.for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            rows = cursor.fetchall()
        return [self._instance(plan, row, connection) for row in rows]

    def first(self, *args: Any, using: str = DEFAULT_DB_ALIAS) -> Any | None:
        found = self.fetch(*args, using=using)
        return found[0] if found else None

    @staticmethod
    def _instance(plan: _Plan, row: Sequence[Any], connection: Any) -> Any:
        if plan.converters:
            row = list(row)
            for pos, convs, expression in plan.converters:
                value = row[pos]
                for converter in convs:
                    value = converter(value, expression, connection)
                row[pos] = value
        obj = plan.model.from_db(connection.alias, plan.init_list, row[plan.model_slice])
        for populator in plan.related_populators:
            populator.populate(row, obj)
        for name, position in plan.annotations:
            setattr(obj, name, row[position])
        return obj


class CompiledJoin:
    """Two compiled queries in one round trip: the first row of `left` with the first row of `right` (or None).

    For two lookups that every call makes and that share no relation (an API token and the realm named in the
    URL): `SELECT * FROM (left) LEFT JOIN (right) ON true`, each side's SQL the ORM's own. `first(*args)` takes
    the left query's arguments then the right one's, and returns None when `left` finds nothing.
    """

    def __init__(self, left: CompiledQuery, right: CompiledQuery) -> None:
        if left._plans is right._plans:
            raise ValueError("join two different queries")
        self.left, self.right = left, right
        self._sql: dict[tuple[str, str], str] = {}

    def first(self, *args: Any, using: str = DEFAULT_DB_ALIAS) -> tuple[Any, Any | None] | None:
        connection = connections[using]
        left, right = self.left._plan(connection), self.right._plan(connection)
        if left.for_update or right.for_update:
            raise ValueError("a join of locking queries is not supported")
        key = (connection.alias, connection.vendor)
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = (
                # Both sides are SQL compiled by the ORM with bound parameters: no value is formatted in.
                f"SELECT * FROM ({left.sql}) compiled_left LEFT JOIN ({right.sql}) compiled_right ON 1 = 1"  # noqa: S608
            )
        split = len(self.left.kinds)
        params = self.left._params(left, args[:split]) + self.right._params(right, args[split:])
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        left_row, right_row = row[: left.width], row[left.width : left.width + right.width]
        found = right_row[right.pk_index] is not None
        return (
            CompiledQuery._instance(left, left_row, connection),
            CompiledQuery._instance(right, right_row, connection) if found else None,
        )


def save_together(objs: Sequence[Any], using: str = DEFAULT_DB_ALIAS, *, isolated: bool = False) -> None:
    """Save model instances, of one model or several, in one statement on PostgreSQL.

    A SCIM write saves a user (new, or updated), maybe its emails, and an audit event: a round trip per `save()`,
    one here (`WITH w0 AS (UPDATE …), w1 AS (INSERT …) INSERT …`, each statement compiled by the ORM with the
    values `save()` would write: defaults, `auto_now`/`auto_now_add` and JSON adaptation included). Elsewhere
    (SQLite) one statement per model and change, in a transaction. Either way all or nothing is saved, without a
    transaction of the caller's: a single statement is atomic on its own.

    New instances (`_state.adding`) are inserted, models in the order they first appear (parents first; Django's
    foreign keys on PostgreSQL are checked at commit anyway); the others are updated, every field as by `save()`,
    and must exist (callers hold their row locked). An auto-incremented primary key is not read back: give new
    instances a primary key of their own (a UUID default) or do not use theirs. No signals are sent.

    `isolated`: inside a caller's transaction, save in a savepoint, so that a failure (a uniqueness conflict) leaves
    the caller's transaction usable; outside one, it changes nothing.
    """
    if not objs:
        return
    connection = connections[using]
    statements: list[tuple[str, Sequence[Any]]] = []
    new: dict[Any, list[Any]] = {}
    for obj in objs:
        if obj._state.adding:
            new.setdefault(type(obj), []).append(obj)
        else:
            statements.append(_update_sql(obj, connection))
    for model, instances in new.items():
        statements.extend(_insert_sql(model, instances, connection))
    if connection.vendor == "postgresql" and len(statements) > 1:
        *ctes, (last_sql, _) = statements
        # Only the ORM's own statements, with bound parameters: no value is formatted in.
        sql = "WITH " + ", ".join(f"w{i} AS ({s})" for i, (s, _) in enumerate(ctes)) + " " + last_sql
        statements = [(sql, [p for _, params in statements for p in params])]
    # All or nothing: one statement is on its own; several run in the caller's transaction or in one of their own.
    if connection.in_atomic_block:
        scope = transaction.atomic(using=using) if isolated else contextlib.nullcontext()
    else:
        scope = contextlib.nullcontext() if len(statements) == 1 else transaction.atomic(using=using)
    with scope, connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using


# Statement texts, compiled by the ORM once per model, columns, row count and database: values come afterwards.
_STATEMENTS: dict[tuple[Any, ...], str] = {}


def _plain(value: Any) -> bool:
    """A value the ORM binds as a parameter, not an expression or a model instance it would compile first."""
    return not (hasattr(value, "resolve_expression") or hasattr(value, "as_sql") or hasattr(value, "_meta"))


def _insert_sql(model: Any, instances: list[Any], connection: Any) -> list[tuple[str, Sequence[Any]]]:
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.generated]
    if any(obj.pk is None for obj in instances):
        if meta.auto_field is None or any(obj.pk is not None for obj in instances):
            raise ValueError(f"save_together: give every new {meta.label} a primary key, or none of them")
        fields = [f for f in fields if f is not meta.auto_field]
    # The values the ORM would save: pre_save (defaults, auto_now_add) then the database form of each. Only one-row
    # INSERTs of plain values are reused: for several rows PostgreSQL's INSERT binds one array per column (UNNEST).
    raw = [[f.pre_save(obj, True) for f in fields] for obj in instances]
    reusable = len(instances) == 1 and all(_plain(v) for v in raw[0]) and not _placeholders(fields)
    key = ("insert", model, tuple(f.attname for f in fields), connection.alias, connection.vendor)
    sql = _STATEMENTS.get(key) if reusable else None
    if sql is None:
        query = InsertQuery(model)
        query.insert_values(fields, instances)
        statements = query.get_compiler(connection=connection).as_sql()
        if reusable and len(statements) == 1:
            _STATEMENTS[key] = statements[0][0]
        return statements
    return [(sql, [f.get_db_prep_save(v, connection=connection) for f, v in zip(fields, raw[0], strict=True)])]


def _placeholders(fields: Sequence[Any]) -> bool:
    """Whether a field writes its value through an SQL placeholder of its own (BinaryField): never cached."""
    return any(hasattr(f, "get_placeholder") for f in fields)


def _update_sql(obj: Any, connection: Any) -> tuple[str, Sequence[Any]]:
    """UPDATE of every field of a row, as `save()` writes it (its WHERE: the primary key)."""
    meta = obj._meta
    if obj.pk is None:
        raise ValueError(f"save_together: an existing {meta.label} without a primary key")
    fields = [f for f in meta.local_concrete_fields if not f.primary_key and not f.generated]
    values = [f.pre_save(obj, False) for f in fields]
    if not all(_plain(v) for v in values) or _placeholders(fields):
        query = UpdateQuery(type(obj))
        query.add_update_fields(list(zip(fields, [None] * len(fields), values, strict=True)))
        query.add_q(Q(pk=obj.pk))
        return query.get_compiler(connection=connection).as_sql()
    key = ("update", type(obj), connection.alias, connection.vendor)
    sql = _STATEMENTS.get(key)
    if sql is None:
        qn = connection.ops.quote_name
        assignments = ", ".join(f"{qn(f.column)} = %s" for f in fields)
        # Table and column names from the model's _meta, quoted: no value is formatted in.
        sql = _STATEMENTS[key] = f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {qn(meta.pk.column)} = %s"  # noqa: S608
    params = [f.get_db_prep_save(v, connection=connection) for f, v in zip(fields, values, strict=True)]
    return sql, [*params, meta.pk.get_db_prep_value(obj.pk, connection)]
