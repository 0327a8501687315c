"""The writes of the hot path, each in one statement on PostgreSQL (data-modifying WITH), in one transaction of
its own on SQLite: `save_together` (a new user, its emails and its audit event; a group and its event) and
`save_if_version` (Okta's PUT as a compare and swap). The values are prepared by the fields themselves
(`pre_save()`, `get_db_prep_save()`) as `save()` prepares them; the texts are built once per process
(`realms.sql.statement`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction

from . import execute, statement, table_fields


def save_together(objs: Sequence[models.Model], using: str = DEFAULT_DB_ALIAS, *, isolated: bool = False) -> None:
    """Save model instances, of one model or several, in one statement on PostgreSQL.

    A SCIM write saves a user (new, or updated), maybe its emails, and an audit event: a round trip per `save()`,
    one here (`WITH w0 AS (UPDATE …), w1 AS (INSERT …) INSERT …`, with the values `save()` would write: defaults,
    `auto_now`/`auto_now_add` and JSON adaptation included, by each field's `pre_save()` and `get_db_prep_save()`).
    Elsewhere (SQLite) one statement per model and change, in a transaction. Either way all or nothing is saved,
    without a transaction of the caller's: a single statement is atomic on its own.

    New instances (`_state.adding`) are inserted, models in the order they first appear (parents first; foreign keys
    are checked at commit on PostgreSQL anyway); the others are updated, every field as by `save()`, and must exist
    (callers hold their row locked). An auto-incremented primary key is not read back: give new instances a primary
    key of their own (a UUID default) or do not use theirs. Values must be plain values, not expressions. No signals
    are sent.

    `isolated`: inside a caller's transaction, save in a savepoint, so that a failure (a uniqueness conflict) leaves
    the caller's transaction usable; outside one, it changes nothing.
    """
    if not objs:
        return
    connection = connections[using]
    statements = [_update(obj, connection) for obj in objs if not obj._state.adding]
    statements += [_insert(model, new, connection) for model, new in _by_model(o for o in objs if o._state.adding)]
    if connection.vendor == "postgresql" and len(statements) > 1:
        *ctes, (last_sql, _) = statements
        # Statements written from the models' _meta, values bound as parameters: no value is formatted in.
        sql = "WITH " + ", ".join(f"w{i} AS ({s})" for i, (s, _) in enumerate(ctes)) + " " + last_sql
        statements = [(sql, [p for _, params in statements for p in params])]
    # All or nothing: one statement is on its own; several run in the caller's transaction or in one of their own.
    if not transaction.get_autocommit(using):  # inside the caller's transaction
        scope = transaction.atomic(using=using) if isolated else contextlib.nullcontext()
    else:
        scope = contextlib.nullcontext() if len(statements) == 1 else transaction.atomic(using=using)
    with scope, connection.cursor() as cursor:
        for sql, params in statements:
            execute(connection, cursor, sql, params)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using


def _by_model(objs: Iterable[models.Model]) -> list[tuple[type[models.Model], list[models.Model]]]:
    """The instances grouped by model, models in the order they first appear (one INSERT each)."""
    grouped: dict[type[models.Model], list[models.Model]] = {}
    for obj in objs:
        grouped.setdefault(type(obj), []).append(obj)
    return list(grouped.items())


_MAX_CACHED_ROWS = 16  # INSERT texts kept per model and row count up to this many rows
_AUTO_TYPES = frozenset({"AutoField", "BigAutoField", "SmallAutoField"})


@functools.cache  # a model's columns do not change once the app registry is ready
def _written_fields(model: type[models.Model]) -> tuple[models.Field, ...]:
    return tuple(f for f in table_fields(model) if not isinstance(f, models.GeneratedField))


def _plain(field: models.Field, value: Any) -> Any:
    if hasattr(value, "resolve_expression"):
        raise ValueError(f"save_together: {field} holds an expression ({value!r}); save() that instance instead")
    return value


def _insert_fields(model: type[models.Model], instances: list[models.Model]) -> tuple[models.Field, ...]:
    """The columns an INSERT of `instances` writes: all but an auto-incremented key the database numbers."""
    fields = _written_fields(model)
    if any(obj.pk is None for obj in instances):
        pk = model._meta.pk
        if pk.get_internal_type() not in _AUTO_TYPES or any(obj.pk is not None for obj in instances):
            raise ValueError(f"save_together: give every new {model._meta.label} a primary key, or none of them")
        fields = tuple(f for f in fields if not f.primary_key)  # the database numbers the rows
    return fields


def _insert_params(fields: tuple[models.Field, ...], instances: list[models.Model], connection: Any) -> list[Any]:
    """The values save() would write: pre_save (defaults, auto_now_add) then the database form of each."""
    return [
        field.get_db_prep_save(_plain(field, field.pre_save(obj, True)), connection)
        for obj in instances
        for field in fields
    ]


def _insert(model: type[models.Model], instances: list[models.Model], connection: Any) -> tuple[str, list[Any]]:
    fields = _insert_fields(model, instances)
    params = _insert_params(fields, instances, connection)

    def build(connection: Any) -> str:
        qn = connection.ops.quote_name
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        columns = ", ".join(qn(f.column) for f in fields)
        # Table and column names from the model's _meta, quoted; values are parameters.
        rows = ", ".join([row] * len(instances))
        return f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES {rows}"  # noqa: S608

    if len(instances) > _MAX_CACHED_ROWS:  # rare (a user with many emails): not worth a text kept for ever
        return build(connection), params
    key = ("insert", model, tuple(f.attname for f in fields), len(instances))
    return statement(key, connection, build), params


def _updated_fields(model: type[models.Model], update_fields: Iterable[str] | None) -> tuple[models.Field, ...]:
    """The columns an UPDATE writes: every one but the primary key, or those named in `update_fields` (field names
    or attnames), as `save(update_fields=...)` takes them."""
    fields = tuple(f for f in _written_fields(model) if not f.primary_key)
    if update_fields is None:
        return fields
    names = frozenset(update_fields)
    chosen = tuple(f for f in fields if f.name in names or f.attname in names)
    unknown = names - {f.name for f in chosen} - {f.attname for f in chosen}
    if unknown or not chosen:
        raise ValueError(f"update_fields: {sorted(unknown) or 'nothing'} is not a field {model._meta.label} can update")
    return chosen


def _update(obj: models.Model, connection: Any, update_fields: Iterable[str] | None = None) -> tuple[str, list[Any]]:
    """UPDATE of a row as `save()` writes it (its WHERE: the primary key): every field, or only `update_fields`
    (their `pre_save()` only, as `save(update_fields=...)`: an `auto_now` field is written only if named)."""
    model = type(obj)
    meta = obj._meta
    if obj.pk is None:
        raise ValueError(f"save_together: an existing {meta.label} without a primary key")
    fields = _updated_fields(model, update_fields)
    params = [field.get_db_prep_save(_plain(field, field.pre_save(obj, False)), connection) for field in fields]

    def build(connection: Any) -> str:
        qn = connection.ops.quote_name
        assignments = ", ".join(f"{qn(f.column)} = %s" for f in fields)
        # Table and column names from the model's _meta, quoted: no value is formatted in.
        return f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {qn(meta.pk.column)} = %s"  # noqa: S608

    sql = statement(("update", model, tuple(f.attname for f in fields)), connection, build)
    return sql, [*params, meta.pk.get_db_prep_value(obj.pk, connection)]


def save_if_version(
    obj: models.Model,
    version: int,
    *,
    inserts: Sequence[models.Model] = (),
    replace_children: tuple[type[models.Model], str] | None = None,
    update_fields: Iterable[str] | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> bool:
    """Update `obj` only if its row still holds `version` (its `version` field), and only then insert `inserts` and
    delete the rows of `replace_children` (a model and its foreign key to `obj`) that pointed at it before: one
    statement on PostgreSQL, no transaction needed (compare and swap). Returns whether the row held `version`;
    when it did not, nothing was written. `update_fields`, as for `save()`, names the only fields written (the
    `version` field among them).

    Name only what can have changed where it matters: SQLite rewrites the entry of every index on a column that
    an UPDATE sets, even to the value it holds (a user's UPDATE of every column wrote 4 pages, its row's and three
    indexes', in 61 µs; of the columns of a profile change, 1 page in 28 µs: docs/performance-history.md).

    What it saves: a write computed from a row read without a lock (a SCIM PUT reads its user with the token) is
    saved only if nobody wrote that row meanwhile; if somebody did, the caller computes it again under the row
    lock. On PostgreSQL three round trips fewer than BEGIN, a locked read, the write and COMMIT (one data-modifying
    WITH). On SQLite, where a write transaction locks the whole database, the statements run in a transaction of
    their own that holds the lock for the writes only, not for the read and the Python that computed them: the
    other processes' writers wait less (docs/performance-history.md).
    """
    connection = connections[using]
    update = _update_if_version(obj, version, update_fields, connection)
    if connection.vendor == "postgresql":
        updated = _save_if_version_in_one_statement(obj, update, inserts, replace_children, connection)
    else:
        updated = _save_if_version_in_transaction(obj, update, inserts, replace_children, connection)
    if updated:
        for instance in inserts:
            instance._state.adding = False
            instance._state.db = using
    return updated


def _update_if_version(
    obj: models.Model, version: int, update_fields: Iterable[str] | None, connection: Any
) -> tuple[str, list[Any]]:
    """The UPDATE of `obj` as `save()` writes it, only where its row still holds `version`."""
    update_sql, params = _update(obj, connection, update_fields)
    version_column = connection.ops.quote_name(obj._meta.get_field("version").column)
    return f"{update_sql} AND {version_column} = %s", [*params, version]


def _save_if_version_in_one_statement(
    obj: models.Model,
    update: tuple[str, list[Any]],
    inserts: Sequence[models.Model],
    replace_children: tuple[type[models.Model], str] | None,
    connection: Any,
) -> bool:
    """`save_if_version` as one data-modifying WITH (PostgreSQL), `update` its UPDATE … WHERE version."""
    update_sql, update_params = update
    params = list(update_params)
    groups = [(model, _insert_fields(model, instances), instances) for model, instances in _by_model(inserts)]
    for _, fields, instances in groups:
        params += _insert_params(fields, instances, connection)

    def build(connection: Any) -> str:
        qn = connection.ops.quote_name
        parts = [f"{update_sql} RETURNING {qn(obj._meta.pk.column)}"]
        if replace_children is not None:
            child, fk_name = replace_children
            fk = child._meta.get_field(fk_name)
            # Names from _meta, quoted; the old rows go only if the update happened (the row's id comes from w0).
            parts.append(f"DELETE FROM {qn(child._meta.db_table)} WHERE {qn(fk.column)} IN (SELECT * FROM w0)")  # noqa: S608
        for model, fields, instances in groups:
            # Each value cast to its column's type (Field.db_type): a VALUES list outside an INSERT has no column
            # to take a type from, and a NULL would be text.
            row = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in fields) + ")"
            columns = ", ".join(qn(f.column) for f in fields)
            # INSERT … SELECT … WHERE EXISTS: the rows go in only if the update happened. Names from _meta, quoted.
            parts.append(
                f"INSERT INTO {qn(model._meta.db_table)} ({columns}) SELECT * FROM (VALUES "  # noqa: S608
                + ", ".join([row] * len(instances))
                + ") v WHERE EXISTS (SELECT 1 FROM w0)"
            )
        ctes = ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(parts))
        return f"WITH {ctes} SELECT COUNT(*) FROM w0"  # noqa: S608 (parts from _meta only)

    # The text depends on the UPDATE's text and on the inserted models, their columns and row counts: built once per
    # process, as `_insert`'s.
    if any(len(instances) > _MAX_CACHED_ROWS for _, _, instances in groups):  # rare: not worth keeping
        sql = build(connection)
    else:
        inserted = tuple(
            (model, tuple(f.attname for f in fields), len(instances)) for model, fields, instances in groups
        )
        sql = statement(("save_if_version", update_sql, replace_children, inserted), connection, build)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (updated,) = cursor.fetchone()
    return bool(updated)


def _save_if_version_in_transaction(
    obj: models.Model,
    update: tuple[str, list[Any]],
    inserts: Sequence[models.Model],
    replace_children: tuple[type[models.Model], str] | None,
    connection: Any,
) -> bool:
    """`save_if_version` as statements in one transaction (databases without data-modifying WITH: SQLite), every
    value prepared before it starts, `update` its UPDATE … WHERE version."""
    qn = connection.ops.quote_name
    update_sql, update_params = update
    writes = [_insert(model, instances, connection) for model, instances in _by_model(inserts)]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        execute(connection, cursor, update_sql, update_params)
        if cursor.rowcount != 1:
            return False  # written meanwhile: nothing else is written (the transaction commits nothing)
        if replace_children is not None:
            child, fk_name = replace_children
            fk = child._meta.get_field(fk_name)
            # Names from _meta, quoted; the parent's id is a parameter.
            execute(
                connection,
                cursor,
                f"DELETE FROM {qn(child._meta.db_table)} WHERE {qn(fk.column)} = %s",  # noqa: S608
                [obj._meta.pk.get_db_prep_value(obj.pk, connection)],
            )
        for sql, params in writes:
            execute(connection, cursor, sql, params)
    return True
