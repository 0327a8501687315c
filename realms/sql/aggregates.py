"""A user's groups and emails read in the user's own query: correlated subqueries returning JSON arrays.

A page of users with their `groups` then costs one query instead of two, and a user one instead of two: each
query saved is a database round trip on the calls Okta makes most (lookups, imports). A write locks its user
with the user's emails (compared with the new ones) and groups (for the response) in the same query. The SQL
differs by database (json_agg on PostgreSQL, json_group_array on SQLite); the output is the same text, decoded
in Python.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db.models import Expression, TextField

from ..models import RealmEmail, RealmGroup, RealmGroupMembership, RealmUser


class _UserJSONArray(Expression):
    """A JSON array (as text) built from rows related to the outer RealmUser row; SQL per database below.

    An expression for querysets (`.annotate(groups_json=UserGroupsJSON())`), and `sql(connection)` for the
    hand-written queries of realms/sql/queries.py, where the outer row is the RealmUser table itself (not aliased).
    """

    output_field = TextField()
    contains_aggregate = False
    postgresql: str  # templates over {m} memberships, {g} groups, {e} emails, {u} users, {primary} (quoted names)
    sqlite: str

    @classmethod
    def sql(cls, connection: Any) -> str:
        quote = connection.ops.quote_name
        names = {
            "m": quote(RealmGroupMembership._meta.db_table),
            "g": quote(RealmGroup._meta.db_table),
            "e": quote(RealmEmail._meta.db_table),
            "u": quote(RealmUser._meta.db_table),
            "primary": quote(RealmEmail._meta.get_field("primary").column),
        }
        template = cls.sqlite if connection.vendor == "sqlite" else cls.postgresql
        return template.format(**names)  # model table and column names only: no value is ever formatted in

    def as_sql(self, compiler, connection, **extra_context) -> tuple[str, list[Any]]:
        return self.sql(connection), []


class UserGroupsJSON(_UserJSONArray):
    """`[[group id, displayName], …]` of the outer RealmUser row, ordered by displayName then id."""

    postgresql = (
        "(SELECT COALESCE(json_agg(json_build_array(g.id, g.display_name) ORDER BY g.display_name, g.id), "
        "'[]'::json)::text FROM {m} m INNER JOIN {g} g ON g.id = m.group_id WHERE m.user_id = {u}.id)"
    )
    sqlite = (
        "(SELECT json_group_array(json_array(x.id, x.display_name)) FROM (SELECT g.id AS id, "
        "g.display_name AS display_name FROM {m} m INNER JOIN {g} g ON g.id = m.group_id "
        "WHERE m.user_id = {u}.id ORDER BY g.display_name, g.id) x)"
    )


def decode_groups(text: str | None) -> list[tuple[uuid.UUID, str]]:
    return [(uuid.UUID(str(group_id)), name) for group_id, name in json.loads(text or "[]")]


class UserEmailsJSON(_UserJSONArray):
    """`[[value, type, primary], …]` of the outer RealmUser row's RealmEmail rows, in their order."""

    postgresql = (
        "(SELECT COALESCE(json_agg(json_build_array(e.value, e.type, e.{primary}) ORDER BY e.id), "
        "'[]'::json)::text FROM {e} e WHERE e.user_id = {u}.id)"
    )
    sqlite = (
        "(SELECT json_group_array(json_array(x.value, x.type, x.is_primary)) FROM (SELECT e.value AS value, "
        "e.type AS type, e.{primary} AS is_primary FROM {e} e WHERE e.user_id = {u}.id ORDER BY e.id) x)"
    )


def decode_emails(text: str | None) -> list[tuple[str, str, bool]]:
    return [(value, type_, bool(primary)) for value, type_, primary in json.loads(text or "[]")]
