"""A user's groups read in the user's own query: one correlated subquery returning them as a JSON array.

A page of users with their `groups` then costs one query instead of two, and a user one instead of two: each
query saved is a database round trip on the calls Okta makes most (lookups, imports). The SQL differs by
database (json_agg on PostgreSQL, json_group_array on SQLite); the output is the same text, decoded in Python.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db.models import Expression, TextField

from realms.models import RealmGroup, RealmGroupMembership, RealmUser


class UserGroupsJSON(Expression):
    """`[[group id, displayName], …]` of the outer RealmUser row, ordered by displayName then id."""

    output_field = TextField()
    contains_aggregate = False

    def _names(self, compiler) -> dict[str, str]:
        quote = compiler.quote_name_unless_alias
        return {
            "m": quote(RealmGroupMembership._meta.db_table),
            "g": quote(RealmGroup._meta.db_table),
            "u": quote(RealmUser._meta.db_table),
        }

    def as_sql(self, compiler, connection, **extra_context) -> tuple[str, list[Any]]:
        n = self._names(compiler)
        sql = (
            "(SELECT COALESCE(json_agg(json_build_array(g.id, g.display_name) ORDER BY g.display_name, g.id), "  # noqa: S608 (model table names only)
            f"'[]'::json)::text FROM {n['m']} m INNER JOIN {n['g']} g ON g.id = m.group_id "
            f"WHERE m.user_id = {n['u']}.id)"
        )
        return sql, []

    def as_sqlite(self, compiler, connection, **extra_context) -> tuple[str, list[Any]]:
        n = self._names(compiler)
        sql = (
            "(SELECT json_group_array(json_array(x.id, x.display_name)) FROM (SELECT g.id AS id, "  # noqa: S608 (model table names only)
            f"g.display_name AS display_name FROM {n['m']} m INNER JOIN {n['g']} g ON g.id = m.group_id "
            f"WHERE m.user_id = {n['u']}.id ORDER BY g.display_name, g.id) x)"
        )
        return sql, []


def decode_groups(text: str | None) -> list[tuple[uuid.UUID, str]]:
    return [(uuid.UUID(str(group_id)), name) for group_id, name in json.loads(text or "[]")]
