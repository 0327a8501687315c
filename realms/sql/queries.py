"""The reads of realm users and groups that SCIM calls make most, as hand-written SQL (realms/sql/__init__.py says why).

Each function is one statement whose text is built once per process and database vendor, with the model's
columns from `_meta`; every value is a parameter. `tests/realms/test_sql.py` checks that each gives exactly what
the equivalent queryset gives, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from ..models import RealmGroup, RealmGroupRoleMapping, RealmUser
from . import Columns, fetch, for_update_of, param, require_transaction, statement
from .aggregates import UserEmailsJSON, UserGroupsJSON

USER_COLUMNS = Columns(RealmUser)
GROUP_COLUMNS = Columns(RealmGroup)
_COLUMNS = {RealmUser: USER_COLUMNS, RealmGroup: GROUP_COLUMNS}


def _select(connection: Any, model: type, with_groups: bool, extra: str = "") -> str:
    """`SELECT <columns>[, groups_json] FROM <table>`: a RealmUser's groups inlined as JSON text when asked."""
    if with_groups and model is not RealmUser:
        raise ValueError("only realm users inline their groups")
    groups = f", {UserGroupsJSON.sql(connection)}" if with_groups else ""
    table = connection.ops.quote_name(model._meta.db_table)
    return f"SELECT {_COLUMNS[model].sql(connection)}{groups}{extra} FROM {table}"  # noqa: S608 (names from _meta)


def _where_realm_and_pk(connection: Any, model: type) -> str:
    """` WHERE <realm> = %s AND <pk> = %s`, for the reads that lock their row (and `resource`).

    On PostgreSQL the realm is compared with `IS NOT DISTINCT FROM`, the same for a column that is never NULL, which
    no index serves: the primary key is the statement's only index path, the realm a filter on its one row (under
    `FOR UPDATE`, a row of another realm is not locked). With `=`, the primary key and the realm's indexes each
    matched one condition, which on a table never analysed costs the same, and a generic plan made then could scan
    the realm's rows for the id (`Read.join`, `_where_realm_and`)."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    realm, pk = qn(model._meta.get_field("realm").column), qn(model._meta.pk.column)
    equals = "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "="
    return f" WHERE {table}.{realm} {equals} %s AND {table}.{pk} = %s"


def _where_realm_and(connection: Any, model: type, field_name: str, case_insensitive: bool) -> str:
    """` WHERE <realm> = %s AND <field> = %s`, the field compared lower-cased on both sides when
    `case_insensitive` (the functional unique indexes on lower(username) and lower(display_name) serve it).

    On PostgreSQL the value is lower-cased in a sub-select, `= (SELECT LOWER(%s))`, evaluated once per execution
    as an InitPlan. With `= LOWER(%s)` the unique index's path carried that call as start-up cost: on a table never
    analysed, where both expect one row, PostgreSQL took the `(realm_id, created_at, id)` index's path for its lower
    start-up cost, and a connection's generic plan made then (after its first calls) stays until the table's
    statistics change: the realm's rows read one by one, `lower(username)` checked on each (docs/performance-history.md,
    "the first push"). Without that cost the unique index's path is the cheaper on every count, whichever index
    was created first (tests/scim/test_query_counts.py checks the plan). Same rows: PostgreSQL's own LOWER, the
    same collation."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    column = f"{table}.{qn(model._meta.get_field(field_name).column)}"
    lowered = "(SELECT LOWER(%s))" if connection.vendor == "postgresql" else "LOWER(%s)"
    condition = f"LOWER({column}) = {lowered}" if case_insensitive else f"{column} = %s"
    return f" WHERE {table}.{qn(model._meta.get_field('realm').column)} = %s AND {condition}"


def _instances(model: type, rows: list[tuple], connection: Any, extra: tuple[str, ...] = ()) -> list[Any]:
    """Instances of the rows, each with the values of `extra` columns (after the model's) as attributes."""
    columns = _COLUMNS[model]
    width = len(columns)
    objects = []
    for row in rows:
        obj = columns.instance(row[:width], connection)
        for name, value in zip(extra, row[width:], strict=True):
            setattr(obj, name, value)
        objects.append(obj)
    return objects


def resource(
    model: type, realm_pk: uuid.UUID, pk: uuid.UUID, *, with_groups: bool = False, using: str = DEFAULT_DB_ALIAS
) -> Any | None:
    """The realm's user or group `pk` (a user with `groups_json` when `with_groups`), or None."""
    connection = connections[using]
    sql = statement(
        ("resource", model, with_groups),
        connection,
        lambda c: _select(c, model, with_groups) + _where_realm_and_pk(c, model),
    )
    rows = fetch(sql, [param(model, "realm", realm_pk, connection), param(model, "pk", pk, connection)], using)
    found = _instances(model, rows, connection, ("groups_json",) if with_groups else ())
    return found[0] if found else None


def lookup(
    model: type,
    field_name: str,
    value: str,
    realm_pk: uuid.UUID,
    *,
    case_insensitive: bool,
    offset: int,
    limit: int,
    with_groups: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> list[Any]:
    """The realm's users or groups whose `field_name` equals `value` (`LOWER()` on both sides when
    `case_insensitive`: the functional unique indexes on lower(username) and lower(display_name) serve it), in the
    default order (created_at, id), from `offset`, at most `limit`.

    No OFFSET clause when `offset` is 0 (Okta's lookups, every one): PostgreSQL cannot cost a generic plan with an
    unknown `OFFSET $n`, so it planned the prepared statement again on every call (a custom plan, about 0.2 ms);
    without it, the generic plan wins after five calls and the lookup is never planned again."""
    connection = connections[using]
    with_offset = offset > 0

    def build(c: Any) -> str:
        qn = c.ops.quote_name
        table = qn(model._meta.db_table)
        created, pk = qn(model._meta.get_field("created_at").column), qn(model._meta.pk.column)
        return (
            _select(c, model, with_groups)
            + _where_realm_and(c, model, field_name, case_insensitive)
            + f" ORDER BY {table}.{created} ASC, {table}.{pk} ASC LIMIT %s"
            + (" OFFSET %s" if with_offset else "")
        )

    sql = statement(("lookup", model, field_name, case_insensitive, with_groups, with_offset), connection, build)
    params = [param(model, "realm", realm_pk, connection), value, int(limit)] + ([int(offset)] if with_offset else [])
    return _instances(model, fetch(sql, params, using), connection, ("groups_json",) if with_groups else ())


@dataclass(frozen=True)
class Read:
    """One realm user or group that a SCIM call will read, known from its URL before its token is checked: by id
    (`GET /Users/{id}`) or by an attribute unique in the realm (an IdP's lookup: userName and a group's
    displayName case-insensitively, externalId exactly). At most one row either way.

    The token's own statement reads it (realms/sql/token_query.py, a join on its SELECT): a statement fewer for the
    two calls Okta makes most, on both databases (on SQLite also a read transaction fewer, each of which starts
    with an empty page cache when another process has committed since the last). What it read is used only once
    the token, the realm and the permission have been checked; a refused call never sees it.
    """

    model: type
    field_name: str  # "id", or the column of the lookup attribute
    value: Any
    case_insensitive: bool = False
    with_groups: bool = False
    with_emails: bool = False  # a user's `emails_json` too: what a replacement compares (realms.sql.aggregates)

    @property
    def shape(self) -> tuple[Any, ...]:
        """What the statement's text depends on: everything but the value (a key of `realms.sql.statement`)."""
        return (self.model, self.field_name, self.case_insensitive, self.with_groups, self.with_emails)

    @property
    def extra(self) -> tuple[str, ...]:
        return (("groups_json",) if self.with_groups else ()) + (("emails_json",) if self.with_emails else ())

    def width(self) -> int:
        return len(_COLUMNS[self.model]) + len(self.extra)

    @property
    def by_id(self) -> bool:
        return self.field_name == self.model._meta.pk.name

    def sql(self, connection: Any) -> str:
        """The SELECT of the row: by id, one parameter (the id; `join()` compares the realm); by a unique
        attribute, two (the realm's id, then the value)."""
        emails = f", {UserEmailsJSON.sql(connection)}" if self.with_emails else ""
        select = _select(connection, self.model, self.with_groups, emails)
        if self.by_id:
            qn = connection.ops.quote_name
            return select + f" WHERE {qn(self.model._meta.db_table)}.{qn(self.model._meta.pk.column)} = %s"
        return select + _where_realm_and(connection, self.model, self.field_name, self.case_insensitive)

    def join(self, connection: Any) -> str:
        """` LEFT JOIN (<sql> LIMIT 1) read_row ON …`: the row beside the token's, NULLs when the realm has none.

        By id, the realm is compared in the ON clause, outside the sub-select, which its LIMIT keeps apart: the
        sub-select has the primary key as its only index. With `realm_id = %s AND id = %s` inside, both the primary
        key and the realm's indexes matched one condition each, which on a table never analysed costs the same, and
        the generic plan made then could scan the realm's rows for the id (as the lookups did: `_where_realm_and`).
        """
        realm = f"read_row.{connection.ops.quote_name(self.model._meta.get_field('realm').column)} = %s"
        return f" LEFT JOIN ({self.sql(connection)} LIMIT 1) read_row ON {realm if self.by_id else 'TRUE'}"

    def params(self, realm_pk: uuid.UUID, connection: Any) -> list[Any]:
        """The parameters of `join()`, in order."""
        realm = param(self.model, "realm", realm_pk, connection)
        value = param(self.model, self.field_name, self.value, connection)
        return [value, realm] if self.by_id else [realm, value]

    def instance(self, row: tuple, connection: Any) -> Any | None:
        """The instance of the row (these columns, then `groups_json` when asked); None for a row of NULLs (the
        join found nothing)."""
        if row[_COLUMNS[self.model].pk_index] is None:
            return None
        return _instances(self.model, [row], connection, self.extra)[0]


def locked_user(realm_pk: uuid.UUID, pk: uuid.UUID, using: str = DEFAULT_DB_ALIAS) -> RealmUser | None:
    """The realm's user `pk`, its row (only its row) locked until the end of the transaction, with `emails_json`
    and `groups_json` read under the lock (realms.sql.aggregates)."""
    require_transaction(using)
    connection = connections[using]

    def build(c: Any) -> str:
        extra = f", {UserEmailsJSON.sql(c)}"
        table = c.ops.quote_name(RealmUser._meta.db_table)
        return _select(c, RealmUser, True, extra) + _where_realm_and_pk(c, RealmUser) + for_update_of(c, table)

    sql = statement(("locked", RealmUser), connection, build)
    params = [param(RealmUser, "realm", realm_pk, connection), param(RealmUser, "pk", pk, connection)]
    found = _instances(RealmUser, fetch(sql, params, using), connection, ("groups_json", "emails_json"))
    return found[0] if found else None


def locked_group(realm_pk: uuid.UUID, pk: uuid.UUID, using: str = DEFAULT_DB_ALIAS) -> RealmGroup | None:
    """The realm's group `pk`, its row locked until the end of the transaction, with `has_role_mappings` (the role
    hooks need it on every membership change)."""
    require_transaction(using)
    connection = connections[using]

    def build(c: Any) -> str:
        qn = c.ops.quote_name
        table = qn(RealmGroup._meta.db_table)
        mapping = RealmGroupRoleMapping._meta
        # Names from _meta, quoted.
        exists = (
            f", EXISTS(SELECT 1 FROM {qn(mapping.db_table)} rm "  # noqa: S608
            f"WHERE rm.{qn(mapping.get_field('realm_group').column)} = {table}.{qn(RealmGroup._meta.pk.column)})"
        )
        return _select(c, RealmGroup, False, exists) + _where_realm_and_pk(c, RealmGroup) + for_update_of(c, table)

    sql = statement(("locked", RealmGroup), connection, build)
    params = [param(RealmGroup, "realm", realm_pk, connection), param(RealmGroup, "pk", pk, connection)]
    found = _instances(RealmGroup, fetch(sql, params, using), connection, ("has_role_mappings",))
    if not found:
        return None
    found[0].has_role_mappings = bool(found[0].has_role_mappings)  # SQLite's EXISTS is 0 or 1
    return found[0]


def rename_conflicts(
    model: type,
    name_field: str,
    realm_pk: uuid.UUID,
    pk: uuid.UUID,
    name: str,
    external_id: str | None,
    using: str = DEFAULT_DB_ALIAS,
) -> list[str | None]:
    """The externalIds of the other rows of the realm (at most two) that hold `name` (case-insensitively) or
    `external_id` (exactly, when not None): before a rename, one query for both unique attributes."""
    connection = connections[using]
    with_external_id = external_id is not None

    def build(c: Any) -> str:
        qn = c.ops.quote_name
        meta = model._meta
        table = qn(meta.db_table)
        external = f"{table}.{qn(meta.get_field('external_id').column)}"
        condition = f"LOWER({table}.{qn(meta.get_field(name_field).column)}) = LOWER(%s)"
        if with_external_id:
            condition = f"({condition} OR {external} = %s)"
        realm, own = qn(meta.get_field("realm").column), qn(meta.pk.column)
        # Names from _meta, quoted; values are parameters.
        return (
            f"SELECT {external} FROM {table} WHERE {table}.{realm} = %s AND {condition} "  # noqa: S608
            f"AND NOT ({table}.{own} = %s) LIMIT 2"
        )

    sql = statement(("rename_conflicts", model, name_field, with_external_id), connection, build)
    params = [param(model, "realm", realm_pk, connection), name]
    params += [external_id] if with_external_id else []
    params.append(param(model, "pk", pk, connection))
    return [external for (external,) in fetch(sql, params, using)]
