"""Console search that ignores letter case and accents on SQLite and PostgreSQL alike: "MULLER" finds "Müller".

Both sides of the comparison are folded the same way: lower case, then the canonical decomposition (NFD) without
its combining diacritical marks (U+0300 to U+036F), then the few Latin letters that have no decomposition but are
typed without their stroke (ø, đ, ł, ħ, ŧ, dotless i) replaced by their base letter. ASCII text is only lowered.

PostgreSQL does it with core functions (`normalize`, `regexp_replace`, `translate`; a UTF8 database, the default),
SQLite with `realms_fold`, the same steps in Python, registered on every connection (realms.receivers). No extension
is needed: `unaccent` is not installed on every host's PostgreSQL, and it folds some letters differently (ß → ss,
æ → ae), so a search would find different users on the two databases. docs/architecture.md says why and what it
costs.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.db.models import CharField, Func

COMBINING_MARKS = "[\u0300-\u036f]"  # the Combining Diacritical Marks block, as PostgreSQL's regex sees it
_MARKS = re.compile(COMBINING_MARKS)
# Latin letters without a decomposition that people still type without their stroke or bar (both cases).
STROKED, STROKED_BASE = "øđłħŧıØĐŁĦŦ", "odlhtiodlht"
_STROKED = str.maketrans(STROKED, STROKED_BASE)


def fold(value: Any) -> Any:
    """A text as the console's search compares it: lower case, without accents. Anything else is returned as is."""
    if not isinstance(value, str):
        return value
    value = value.lower()
    if value.isascii():
        return value
    return _MARKS.sub("", unicodedata.normalize("NFD", value)).translate(_STROKED)


class Folded(Func):
    """`fold()` of a column or expression in SQL, comparable with `fold(term)` on both databases."""

    output_field = CharField()

    def __init__(self, expression: Any) -> None:
        super().__init__(expression)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotImplementedError(f"Folded supports SQLite and PostgreSQL, not {connection.vendor}.")

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"realms_fold({sql})", params

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.get_source_expressions()[0])
        # ASCII values (most userNames, emails, externalIds) skip the decomposition: byte length = char length.
        template = (
            f"(CASE WHEN octet_length({sql}) = char_length({sql}) THEN lower({sql}) "
            f"ELSE translate(regexp_replace(normalize(lower({sql}), NFD), %s, '', 'g'), %s, %s) END)"
        )
        return template, [*params, *params, *params, *params, COMBINING_MARKS, STROKED, STROKED_BASE]
