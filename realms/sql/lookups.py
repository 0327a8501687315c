"""`uuid_field__in_array=[…]`: membership in a list of ids, bound as one parameter on PostgreSQL.

With prepared statements (server-side binding, docs/configuration.md `PREPARE_THRESHOLD`) every value of an
`IN (…)` list is a parameter of its own, and a statement binds at most 65,535: Okta's `replace members []` on a
group of 70,000 members would fail. `= ANY(%s)` with the ids as one array parameter has no such limit (and is one
statement text whatever the number of ids). SQLite keeps `IN (…)`, with its own limit of 32,766 values.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import ForeignKey, Lookup, UUIDField


@UUIDField.register_lookup
@ForeignKey.register_lookup  # foreign keys to UUID primary keys (RealmGroupMembership.user)
class InArray(Lookup):
    lookup_name = "in_array"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[Any]:
        return [self.lhs.output_field.get_prep_value(value) for value in self.rhs]

    def as_sql(self, compiler, connection) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [self.lhs.output_field.get_db_prep_value(v, connection, prepared=True) for v in self.rhs]
        if not values:
            raise EmptyResultSet
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]
