"""An API token with its user and the user's permission names, and for SCIM the realm of the URL, in one query.

Every API call reads its token, then checks a permission of the token's user; every SCIM call also needs the realm
at its root URL, with its user and group counts. That is one statement here, hand-written (realms/sql/__init__.py says
why), with every table and column name from the models' `_meta`: the token model (any model with a `user` foreign
key to the user model and a unique `key_hash`), the host's user model (`AbstractBaseUser`, with or without
`PermissionsMixin`), Django's permission tables, and the realm.

The permission names come as `token.permission_names`, a frozenset of "app_label.codename" granted to the user
directly or through its groups (what `ModelBackend` reads in two queries); SCIM's permission check decides from
them and `is_superuser`, without asking the authentication backends again. The statement reads the granted ids;
their names come from a map of every permission that each process keeps (`PermissionNames`).
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, connections

from ..models import Realm, RealmCounts, ServiceAccount
from . import Columns, fetch, param, statement
from .queries import Read


def _foreign_key_column(through: Any, to_model: Any) -> str:
    """The column of the many-to-many table `through` that points at `to_model`."""
    for field in through._meta.get_fields():
        if field.many_to_one and field.related_model is to_model:
            return field.column
    raise ValueError(f"{through._meta.label} has no foreign key to {to_model._meta.label}")


def permission_ids_sql(connection: Any, user_model: Any, user_pk_ref: str) -> str:
    """A subquery: the ids of the permissions of the user whose primary key is `user_pk_ref`, granted directly or
    through its groups, as text (PostgreSQL's array text, "{1,2}"; SQLite's JSON, "[1,2]"); `NULL` for a user
    model without PermissionsMixin (no permissions of its own).

    Ids, not names: the names need two more joins (the permission and its content type) and a string aggregate,
    which cost PostgreSQL most of the statement (`pg_stat_statements`: whoami's 107 µs with names, 33 with ids;
    docs/performance-history.md); the ids are two index lookups, and `permission_names` turns them into names from
    a map each process reads once."""
    try:
        user_model._meta.get_field("user_permissions")
        user_model._meta.get_field("groups")
    except FieldDoesNotExist:
        return "NULL"
    qn = connection.ops.quote_name
    user_permissions = user_model.user_permissions.through
    user_groups = user_model.groups.through
    group_permissions = Group.permissions.through
    up_user, up_permission = (
        _foreign_key_column(user_permissions, user_model),
        _foreign_key_column(user_permissions, Permission),
    )
    ug_user, ug_group = _foreign_key_column(user_groups, user_model), _foreign_key_column(user_groups, Group)
    gp_group, gp_permission = (
        _foreign_key_column(group_permissions, Group),
        _foreign_key_column(group_permissions, Permission),
    )
    # Only table and column names from the models' _meta (quoted) go into the text.
    ids = (
        f"SELECT up.{qn(up_permission)} AS permission_id FROM {qn(user_permissions._meta.db_table)} up "  # noqa: S608
        f"WHERE up.{qn(up_user)} = {user_pk_ref} "
        f"UNION ALL SELECT gp.{qn(gp_permission)} FROM {qn(user_groups._meta.db_table)} ug "
        f"INNER JOIN {qn(group_permissions._meta.db_table)} gp ON gp.{qn(gp_group)} = ug.{qn(ug_group)} "
        f"WHERE ug.{qn(ug_user)} = {user_pk_ref}"
    )
    if connection.vendor == "sqlite":
        return f"(SELECT json_group_array(permission_id) FROM ({ids}))"  # noqa: S608
    return f"ARRAY({ids})::text"


class PermissionNames:
    """Permission ids to names ("app_label.codename"), per database: the map of every permission, read on first
    use and again whenever an id is missing from it (a permission created since), and emptied when permissions or
    content types are saved or deleted in this process or migrations run (receivers.connect).

    A permission keeps its name for as long as it exists: Django never renames one (a renamed model keeps its
    permissions' codenames, and its app label). Only a hand-made UPDATE of `auth_permission` or of a content
    type's app label would go unseen by the other processes until they restart; granting and revoking, the
    rows of the user's and its groups' permissions, are read with every token."""

    def __init__(self) -> None:
        self._names: dict[str, dict[int, str]] = {}
        self._sets: dict[tuple[str, str], frozenset[str]] = {}

    def clear(self, **kwargs: Any) -> None:
        self._names, self._sets = {}, {}

    def _map(self, using: str, reload: bool = False) -> dict[int, str]:
        names = self._names.get(using)
        if names is None or reload:
            rows = Permission.objects.using(using).values_list("pk", "content_type__app_label", "codename")
            names = self._names[using] = {pk: f"{app_label}.{codename}" for pk, app_label, codename in rows}
        return names

    def __call__(self, ids_text: str | None, using: str) -> frozenset[str]:
        """The names of the permissions whose ids `permission_ids_sql` read (as text)."""
        if not ids_text:
            return frozenset()
        found = self._sets.get((using, ids_text))
        if found is not None:
            return found
        ids = {int(i) for i in ids_text.strip("{}[]").split(",") if i.strip()}
        names = self._map(using)
        if not ids <= names.keys():
            names = self._map(using, reload=True)
        found = frozenset(names[i] for i in ids if i in names)  # an id deleted meanwhile grants nothing
        if len(self._sets) >= 1024:  # as many sets as distinct grants in use: bounded all the same
            self._sets = {}
        self._sets[(using, ids_text)] = found
        return found


permission_names = PermissionNames()


def realm_counts_read(realm: Realm) -> tuple[bool, RealmCounts | None]:
    """(True, the realm's RealmCounts or None when it has none) when `realm` was read with a token
    (TokenQuery.with_scim_realm), built from the row on first use; (False, None) for a realm read otherwise."""
    read = getattr(realm, "counts_row_with_token", None)
    if read is None:
        return False, None
    if not hasattr(realm, "counts_or_none"):
        counts_columns, row, connection = read
        counts = counts_columns.instance(row, connection) if row[counts_columns.pk_index] is not None else None
        if counts is not None:
            realm.counts = counts  # the reverse one-to-one's cache, as select_related("counts") fills it
        realm.counts_or_none = counts
    return True, realm.counts_or_none


class TokenQuery:
    """Reads tokens of `token_model` by the SHA-256 of their secret (`key_hash`, unique)."""

    def __init__(self, token_model: Any) -> None:
        self.token_model = token_model

    @functools.cached_property
    def _columns(self) -> tuple[Columns, Columns, Columns, Columns]:
        # Built on first use, when the app registry is ready. The IdP metadata XML (kilobytes) is never needed to
        # serve SCIM: it stays in the database (a deferred field, as with `defer()`).
        user_model = self.token_model._meta.get_field("user").related_model
        return (
            Columns(self.token_model),
            Columns(user_model),
            Columns(Realm, exclude=["idp_metadata"]),
            Columns(RealmCounts),
        )

    def _sql(self, connection: Any, with_realm: bool, read: Read | None = None, with_counts: bool = True) -> str:
        qn = connection.ops.quote_name
        token_columns, user_columns, realm_columns, counts_columns = self._columns
        token_meta, user_meta = self.token_model._meta, user_columns.model._meta
        token, user = qn(token_meta.db_table), qn(user_meta.db_table)
        user_pk = f"{user}.{qn(user_meta.pk.column)}"
        selected = [token_columns.sql(connection), user_columns.sql(connection)]
        selected.append(permission_ids_sql(connection, user_columns.model, user_pk))
        # Whether the user is a service account (what /api/whoami answers), without a query of its own.
        sa = ServiceAccount._meta
        selected.append(
            f"(SELECT COUNT(*) FROM {qn(sa.db_table)} sa WHERE sa.{qn(sa.get_field('user').column)} = {user_pk})"  # noqa: S608
        )
        joins = f" INNER JOIN {user} ON {user_pk} = {token}.{qn(token_meta.get_field('user').column)}"
        if with_realm:
            realm, counts = qn(Realm._meta.db_table), qn(RealmCounts._meta.db_table)
            realm_pk = f"{realm}.{qn(Realm._meta.pk.column)}"
            selected.append(realm_columns.sql(connection))
            joins += (
                f" LEFT JOIN {realm} ON {realm_pk} = %s AND {realm}.{qn(Realm._meta.get_field('scim_enabled').column)}"
            )
            if with_counts:
                selected.append(counts_columns.sql(connection))
                counts_realm = f"{counts}.{qn(RealmCounts._meta.get_field('realm').column)}"
                joins += f" LEFT JOIN {counts} ON {counts_realm} = {realm_pk}"
        if read is not None:
            # The call's one row, side by side (NULLs when there is none); its parameters follow the realm's.
            selected.append("read_row.*")
            joins += read.join(connection)
        # Names from _meta, quoted; the key hash and the realm's id are parameters.
        where = f" WHERE {token}.{qn(token_meta.get_field('key_hash').column)} = %s"
        return f"SELECT {', '.join(selected)} FROM {token}{joins}{where}"  # noqa: S608

    def _token(self, row: tuple, connection: Any) -> tuple[Any, int]:
        """The token with its user and `permission_names` from the start of `row`, and where the row goes on."""
        token_columns, user_columns, _, _ = self._columns
        split = len(token_columns)
        end = split + len(user_columns)
        token = token_columns.instance(row[:split], connection)
        token.user = user_columns.instance(row[split:end], connection)
        token.permission_names = permission_names(row[end], connection.alias)
        token.user.realms_is_service_account = bool(row[end + 1])
        return token, end + 2

    def first(self, key_hash: str, using: str = DEFAULT_DB_ALIAS) -> Any | None:
        """The token with this hash (with its user and `permission_names`), or None."""
        connection = connections[using]
        sql = statement(("token", self.token_model), connection, lambda c: self._sql(c, with_realm=False))
        rows = fetch(sql, [param(self.token_model, "key_hash", key_hash, connection)], using)
        return self._token(rows[0], connection)[0] if rows else None

    def with_scim_realm(
        self, key_hash: str, realm_pk: uuid.UUID, using: str = DEFAULT_DB_ALIAS, read: Read | None = None
    ) -> tuple[Any, Realm | None] | None:
        """The token as by `first`, and the realm `realm_pk` if SCIM is enabled on it (None otherwise), with its
        counts (`realm_counts_read(realm)`); None when there is no token.

        With `read`, the statement also reads that row of the realm (a join on its `SELECT … LIMIT 1`, which depends
        on parameters only: run once, on both databases), and the realm carries it as `realm.read_with_token`:
        `(read, instance or None)`. A call that reads one row never lists the realm: its counts are not read then
        (`realm_counts_read` says so, and the realm's `counts` are read on demand).
        """
        connection = connections[using]
        with_counts = read is None
        key = ("token+realm", self.token_model, with_counts) + (read.shape if read else ())
        sql = statement(key, connection, lambda c: self._sql(c, with_realm=True, read=read, with_counts=with_counts))
        params = [param(Realm, "pk", realm_pk, connection)]
        params += read.params(realm_pk, connection) if read is not None else []
        params.append(param(self.token_model, "key_hash", key_hash, connection))
        rows = fetch(sql, params, using)
        if not rows:
            return None
        row = rows[0]
        token, start = self._token(row, connection)
        _, _, realm_columns, counts_columns = self._columns
        realm_row = row[start : start + len(realm_columns)]
        read_start = start + len(realm_columns) + (len(counts_columns) if with_counts else 0)
        if realm_row[realm_columns.pk_index] is None:
            return token, None
        realm = realm_columns.instance(realm_row, connection)
        if with_counts:
            # The counts only serve list pages: built from their columns when first asked for (realm_counts_read).
            realm.counts_row_with_token = (counts_columns, row[start + len(realm_columns) : read_start], connection)
        if read is not None:
            realm.read_with_token = (read, read.instance(row[read_start : read_start + read.width()], connection))
        return token, realm
