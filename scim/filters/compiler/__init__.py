"""Compile SCIM filters (RFC 7644 §3.4.2.2) and ``sortBy`` (§3.4.2.3) into Django ORM expressions.

Why in the database: a realm can hold many users, and the IdP filters on every provisioning call
(``userName eq "..."``), so filtering must never load rows into Python.  :func:`compile_filter` turns a
parsed filter (:func:`scim.filters.parser.parse_filter`) into one :class:`~django.db.models.Q` that the
caller applies to ``RealmUser.objects.filter(realm=realm)`` (or ``RealmGroup``); the whole filter then
runs as a single SQL query, with the same results on SQLite and PostgreSQL.

Where things are, in the order a filter goes through them: :mod:`.resolve` walks the filter tree and resolves
each attribute path to a target (where the attribute lives); :mod:`.targets` holds the targets and the
collections of multi-valued attributes (``EXISTS`` over their values); :mod:`.scalars` compiles one comparison
on one value; :mod:`.sql` renders JSON paths in per-database SQL; :mod:`.errors` holds
:class:`FilterCompileError`.

Where each attribute lives (see :mod:`realms.models`):

* columns: ``id``, ``userName``, ``externalId``, ``active``, ``displayName``, ``name.givenName``,
  ``name.familyName``, ``meta.created``, ``meta.lastModified`` (``meta.resourceType`` is a constant);
* related rows, reached with ``EXISTS``: ``emails`` (value, type, primary) through ``RealmEmail``,
  ``groups`` (value: group id, display: group displayName) and ``members`` (value: user id, display:
  the user's displayName, or userName when it has none) through ``RealmGroupMembership``, restricted
  to the resource's realm;
* everything else in the ``attributes`` JSON document, reached through small custom expressions
  (:class:`_JsonOp`, :class:`_JsonAny`) that render vendor-specific SQL (``json_type``/``json_extract``/
  ``json_each`` on SQLite, ``jsonb`` operators and ``jsonb_array_elements`` on PostgreSQL).  Every value
  and every JSON key coming from the filter is a query parameter; nothing from the filter is spliced into
  the SQL text.

Semantics chosen where RFC 7644 §3.4.2.2 leaves room (the tests pin each of them down):

* Attribute names, sub-attribute names and schema URNs are case-insensitive (RFC 7643 §2.1).  Core
  attributes are stored under their canonical names, so they are looked up directly; keys under an
  extension URN and attributes this server does not know are matched case-insensitively in SQL.
* String comparisons follow the attribute's ``caseExact`` (RFC 7643 §2.2): ``LOWER()`` on both sides
  when it is false (which also lets ``userName eq`` use the unique index on ``lower(username)``).
  ``id``, ``externalId``, ``meta.resourceType``, ``$ref`` and binary values (RFC 7643 §2.3.6) are case
  exact.  ``co``/``sw``/``ew`` use ``strpos``/``instr`` and ``right()`` rather than ``LIKE``, so they are
  case-sensitive when they must be (SQLite's ``LIKE`` is not) and need no escaping of ``%`` and ``_``.
  Unknown attributes are compared as case-insensitive strings.
* ``gt``/``ge``/``lt``/``le`` compare strings by Unicode code point (``COLLATE "C"`` on PostgreSQL, the
  default ``BINARY`` collation on SQLite), dateTimes chronologically and numbers numerically; they are
  an error on booleans.
* A dateTime in a filter denotes the interval its precision covers: ``meta.created eq
  "2011-05-13T04:42:34Z"`` matches any instant within that second, ``gt`` means after the end of it.
  A dateTime without a time zone is taken as UTC.
* ``pr`` (present) means not null, not ``""`` and not an empty array or object.  ``eq null`` means not
  present and ``ne null`` present.  Consistently, a stored ``""`` is no value (blank columns store an
  absent ``displayName`` that way): it satisfies no comparison, and comparing with ``""`` is a presence
  test (``eq ""`` is ``eq null``, while ``co ""``, ``sw ""``, ``ew ""``, ``gt ""`` and ``ge ""`` mean
  present).
* ``id``, ``groups.value`` and ``members.value`` take ``eq``, ``ne`` and ``pr`` only; a value that is
  not a UUID (8-4-4-4-12 hex digits, in any case) matches nothing.
* ``ne`` is the negation of ``eq``: it matches resources where the attribute is absent, and for a
  multi-valued attribute it matches when *no* value is equal (``emails.value ne "x"``).  Every compiled
  condition is two-valued (never SQL ``NULL``), so ``not (...)`` is the exact complement.
* Inside a value filter (``emails[type eq "work" and value co "@example.com"]``) all conditions apply to
  the same value, as the RFC requires.
* A filter on an attribute that is unknown but syntactically valid never raises: it is looked up in the
  JSON document and matches nothing when absent.  Its type follows the comparison value (a JSON
  ``true`` compares with booleans, ``42`` with numbers), and when the stored value is an array, any
  element (or the ``value`` of an element that is an object) can match.  A name RFC 7643 defines as
  multi-valued (``phoneNumbers`` under a custom URN, ``emails`` on a Group) keeps that meaning.
* Case-insensitive matching uses the database's ``LOWER()``: PostgreSQL folds all of Unicode according
  to the database's ctype while SQLite folds ASCII only, so only ASCII letters are guaranteed to compare
  case-insensitively on both.

Rejected with :class:`FilterCompileError` (the SCIM layer answers 400 ``invalidFilter``, RFC 7644 §3.12):
filters on ``password`` (writeOnly, returned never, RFC 7643 §4.1.1), a sub-attribute of a simple
attribute (``userName.foo``), a value filter on a single-valued attribute (``userName[...]``), a
comparison value of the wrong type for a known attribute, an operator that makes no sense for the
attribute's type, an invalid dateTime, and schemas that do not apply to the resource type.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from django.db.models import OrderBy, Q

from scim.filters.compiler.errors import FilterCompileError
from scim.filters.compiler.resolve import _Compiler
from scim.filters.syntax import AttrPath, Expr

__all__ = ["FilterCompileError", "ResourceTypeName", "compile_filter", "compile_sort"]

#: The resource types whose filters can be compiled.
ResourceTypeName: TypeAlias = Literal["User", "Group"]


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def compile_filter(expr: Expr, resource_type: ResourceTypeName) -> Q:
    """Compile a parsed SCIM filter (RFC 7644 §3.4.2.2) into a ``Q`` over ``RealmUser`` or ``RealmGroup``.

    Why a ``Q``: the caller scopes the queryset to one realm and adds ordering and pagination, and the
    filter must run in the same single query.  Raises :class:`FilterCompileError` for filters that parse
    but cannot be applied (see the module docstring for the exact semantics).
    """
    return _Compiler(resource_type).compile(expr)


def compile_sort(path: AttrPath, resource_type: ResourceTypeName, *, descending: bool = False) -> list[OrderBy]:
    """Compile ``sortBy`` (RFC 7644 §3.4.2.3) into ``order_by()`` arguments.

    Why the extra terms: RFC 7644 §3.4.2.3 sorts strings case-insensitively unless the attribute is
    ``caseExact``, in code-point order ("no specific locale implied", hence ``COLLATE "C"`` on
    PostgreSQL); resources without a value come last in both directions; and ``created_at``, ``id`` are
    always appended so that pages (``startIndex``/``count``, §3.4.2.4) are stable.  Multi-valued
    attributes sort on the primary value (RFC 7644 §3.4.2.3), which is only supported for ``emails``;
    other multi-valued and complex attributes raise :class:`FilterCompileError`.
    """
    return _Compiler(resource_type).sort(path, descending=descending)
