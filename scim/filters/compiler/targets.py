"""What an attribute path resolves to (a target), and the values of multi-valued attributes (collections).

A target answers a comparison, ``pr`` or a value filter ``[...]`` for one attribute path, and gives its sort key:
one value (:class:`_ScalarTarget`), a multi-valued attribute (:class:`_CollectionTarget`: ``EXISTS`` over its
values), an attribute no schema defines (:class:`_LaxTarget`), a complex attribute named alone
(:class:`_ComplexTarget`) and ``schemas`` (:class:`_SchemasTarget`).  A collection is where the values of a
multi-valued attribute are: ``RealmEmail`` rows, ``RealmGroupMembership`` rows, or a JSON array.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from django.db.models import Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Lower, NullIf

from scim.filters.compiler.errors import FilterCompileError
from scim.filters.compiler.scalars import _condition, _describe, _false, _Scalar, _true
from scim.filters.compiler.sql import _SAFE_KEY_RE, _ascii_lower, _CodePointOrder, _JsonAny, _JsonOp, _JsonRef
from scim.filters.syntax import CompValue
from scim.schemas import GROUP_URN, USER_URN, Attribute

if TYPE_CHECKING:
    from scim.filters.compiler.resolve import _Compiler

_CORE_URNS: Final[dict[str, str]] = {"User": USER_URN, "Group": GROUP_URN}


def _models() -> Any:
    """Import the realm models lazily, so that importing :mod:`scim.filters` needs no app registry."""
    from realms import models

    return models


# --------------------------------------------------------------------------------------------------
# Collections: multi-valued attributes, compiled to EXISTS over their values
# --------------------------------------------------------------------------------------------------


class _Collection:
    """The values of a multi-valued attribute (RFC 7643 §2.4): each filter on it is an ``EXISTS``."""

    label: str

    def element(self, sub: str | None, label: str) -> _Scalar:
        """The sub-attribute ``sub`` (``None``: ``value``) of one value, for conditions inside :meth:`exists`."""
        raise NotImplementedError

    def exists(self, condition: Q | None) -> Q:
        """Some value satisfies ``condition`` (``None``: there is a value)."""
        raise NotImplementedError

    def present(self) -> Q:
        return self.exists(None)


class _EmailRows(_Collection):
    """``emails`` through the indexed ``RealmEmail`` rows (value and type caseExact false)."""

    SUBS: Final = {"value": "value", "type": "type", "primary": "primary"}

    def __init__(self, label: str) -> None:
        self.label = label

    @classmethod
    def handles(cls, sub: str | None) -> bool:
        return sub is None or _ascii_lower(sub) in cls.SUBS

    def element(self, sub: str | None, label: str) -> _Scalar:
        name = self.SUBS[_ascii_lower(sub or "value")]
        if name == "primary":
            return _Scalar(label, "boolean", column=lambda: F("primary"))
        return _Scalar(label, "string", column=lambda: F(name), blank=True)

    def exists(self, condition: Q | None) -> Q:
        rows = _models().RealmEmail.objects.filter(user=OuterRef("pk"))
        return Q(Exists(rows if condition is None else rows.filter(condition)))


class _Memberships(_Collection):
    """``groups`` of a User or ``members`` of a Group, through ``RealmGroupMembership`` (RFC 7643 §4.1.2, §4.2).

    The subquery is also restricted to the resource's realm, so a membership row can never make a
    resource match through a group or user of another realm.
    """

    def __init__(self, resource_type: str, label: str) -> None:
        self.resource_type = resource_type
        self.label = label

    def element(self, sub: str | None, label: str) -> _Scalar:
        name = _ascii_lower(sub or "value")
        user_side = self.resource_type == "User"
        if name == "value":
            return _Scalar(label, "id", column=lambda: F("group_id" if user_side else "user_id"))
        if name == "display":
            if user_side:
                return _Scalar(label, "string", column=lambda: F("group__display_name"))
            return _Scalar(
                label,
                "string",
                column=lambda: Coalesce(NullIf(F("user__display_name"), Value("")), F("user__username")),
            )
        if name == "type":  # only direct memberships exist, and only users are members
            return _Scalar(label, "constant", constant="direct" if user_side else "User")
        attribute = "groups" if user_side else "members"
        if name == "$ref":
            raise FilterCompileError(
                f"filtering on '{attribute}.$ref' is not supported; filter on '{attribute}.value' instead"
            )
        raise FilterCompileError(
            f"'{attribute}' has no sub-attribute '{sub}'; its sub-attributes are value, display, type and $ref"
        )

    def exists(self, condition: Q | None) -> Q:
        memberships = _models().RealmGroupMembership.objects
        if self.resource_type == "User":
            rows = memberships.filter(user=OuterRef("pk"), group__realm=OuterRef("realm"))
        else:
            rows = memberships.filter(group=OuterRef("pk"), user__realm=OuterRef("realm"))
        return Q(Exists(rows if condition is None else rows.filter(condition)))


class _JsonArray(_Collection):
    """A multi-valued attribute stored as a JSON array of objects in ``attributes``.

    ``definition`` (RFC 7643) types the sub-attributes; ``canonical`` says whether known sub-attributes
    are stored under their canonical names (core attributes) or must be matched case-insensitively.
    """

    def __init__(
        self,
        compiler: _Compiler,
        ref: _JsonRef,
        label: str,
        definition: Attribute | None,
        *,
        canonical: bool,
    ) -> None:
        self.compiler = compiler
        self.ref = ref
        self.label = label
        self.definition = definition
        self.canonical = canonical
        self.alias = compiler.alias("e")

    def element_ref(self) -> _JsonRef:
        return _JsonRef(base=self.alias)

    def element(self, sub: str | None, label: str) -> _Scalar:
        name = sub or "value"
        definition = self.definition.sub_attribute(name) if self.definition is not None else None
        if definition is None:
            step = self.compiler.step(name, case_insensitive=True)
            return _Scalar(label, "any", json=self.element_ref().child(step))
        step = self.compiler.step(definition.name, case_insensitive=not self.canonical)
        return _json_scalar(label, definition, self.element_ref().child(step))

    def exists(self, condition: Q | None) -> Q:
        return Q(_JsonAny(self.ref, self.alias, condition if condition is not None else _true()))

    def present(self) -> Q:
        return Q(_JsonOp(self.ref, "present"))


def _json_scalar(label: str, definition: Attribute, ref: _JsonRef) -> _Scalar:
    """A known single-valued JSON attribute, typed from its RFC 7643 definition."""
    if definition.type == "boolean":
        return _Scalar(label, "boolean", json=ref)
    if definition.type in ("integer", "decimal"):
        return _Scalar(label, "number", json=ref)
    return _Scalar(label, "string", case_exact=_case_exact(definition), json=ref)


def _case_exact(definition: Attribute) -> bool:
    """caseExact per RFC 7643: as defined, plus ``$ref`` (a URI) and binary values (§2.3.6 "case exact")."""
    return definition.case_exact or definition.name == "$ref" or definition.type == "binary"


# --------------------------------------------------------------------------------------------------
# Targets: what an attribute path resolves to
# --------------------------------------------------------------------------------------------------


class _Target:
    """A resolved attribute path (RFC 7644 §3.10) that a comparison, ``pr`` or a value filter applies to."""

    label: str

    def compare(self, op: str, value: CompValue) -> Q:
        raise NotImplementedError

    def collection(self) -> _Collection:
        """The values a value filter ``[...]`` iterates over."""
        raise FilterCompileError(
            f"'{self.label}' is not a multi-valued attribute, so it cannot take a value filter '[...]'; "
            f"compare it directly, as in '{self.label} eq \"...\"'"
        )

    def sort_key(self) -> Any:
        raise FilterCompileError(f"sorting by '{self.label}' is not supported")


class _ScalarTarget(_Target):
    def __init__(self, scalar: _Scalar) -> None:
        self.scalar = scalar
        self.label = scalar.label

    def compare(self, op: str, value: CompValue) -> Q:
        return _condition(self.scalar, op, value)

    def sort_key(self) -> Any:
        scalar = self.scalar
        if scalar.constant is not None:
            return None
        if scalar.kind in ("string", "any"):
            text = _JsonOp(scalar.json, "text") if scalar.json is not None else scalar.column()  # type: ignore[misc]
            key = text if scalar.case_exact else Lower(text)
            return _CodePointOrder(NullIf(key, Value("")))
        if scalar.column is not None:
            return scalar.column()
        raise FilterCompileError(f"sorting by the {scalar.kind} attribute '{self.label}' is not supported")


class _CollectionTarget(_Target):
    """``attr`` or ``attr.sub`` of a multi-valued attribute: true when some value matches (RFC 7644 §3.4.2.2)."""

    def __init__(self, collection: _Collection, sub: str | None, label: str) -> None:
        self._collection = collection
        self.sub = sub
        self.label = label

    def compare(self, op: str, value: CompValue) -> Q:
        if op == "pr" and self.sub is None:
            return self._collection.present()
        if value is None and op in ("eq", "ne"):
            present = self.compare("pr", None)
            return ~present if op == "eq" else present
        if op == "ne":  # no value is equal: the complement of "eq", absent attributes included
            return ~self.compare("eq", value)
        return self._collection.exists(_condition(self._collection.element(self.sub, self.label), op, value))

    def collection(self) -> _Collection:
        if self.sub is not None:
            raise FilterCompileError(
                f"a value filter applies to a whole multi-valued attribute, not to '{self.label}'; "
                f"write it as '{self._collection.label}[{self.sub} ...]'"
            )
        return self._collection

    def sort_key(self) -> Any:
        if isinstance(self._collection, _EmailRows) and (self.sub is None or _ascii_lower(self.sub) == "value"):
            emails = _models().RealmEmail.objects.filter(user=OuterRef("pk")).order_by("-primary", "pk")
            return _CodePointOrder(Subquery(emails.annotate(sort_value=Lower("value")).values("sort_value")[:1]))
        raise FilterCompileError(
            f"sorting by the multi-valued attribute '{self.label}' is not supported; sort by a "
            "single-valued attribute such as userName, displayName or emails"
        )


class _LaxTarget(_Target):
    """An attribute this server does not know: JSON, matched whether it holds a value or an array of them."""

    def __init__(self, compiler: _Compiler, ref: _JsonRef, sub: str | None, label: str) -> None:
        self.compiler = compiler
        self.ref = ref
        self.sub = sub
        self.label = label

    def _array(self) -> _JsonArray:
        return _JsonArray(self.compiler, self.ref, self.label, None, canonical=False)

    def _scalar(self, ref: _JsonRef) -> _Scalar:
        return _Scalar(self.label, "any", json=ref)

    def compare(self, op: str, value: CompValue) -> Q:
        if value is None and op in ("eq", "ne"):
            present = self.compare("pr", None)
            return ~present if op == "eq" else present
        if op == "ne":
            return ~self.compare("eq", value)
        step = self.compiler.step
        array = self._array()
        if self.sub is None:
            if op == "pr":
                return _condition(self._scalar(self.ref), op, value)
            direct = _condition(self._scalar(self.ref), op, value) | _condition(
                self._scalar(self.ref.child(step("value", case_insensitive=True))), op, value
            )
            element = _condition(self._scalar(array.element_ref()), op, value) | _condition(
                array.element(None, self.label), op, value
            )
            return direct | array.exists(element)
        direct = _condition(self._scalar(self.ref.child(step(self.sub, case_insensitive=True))), op, value)
        return direct | array.exists(_condition(array.element(self.sub, self.label), op, value))

    def collection(self) -> _Collection:
        if self.sub is not None:
            return super().collection()
        return self._array()

    def sort_key(self) -> Any:
        ref = self.ref if self.sub is None else self.ref.child(self.compiler.step(self.sub, case_insensitive=True))
        return _ScalarTarget(self._scalar(ref)).sort_key()


class _ComplexTarget(_Target):
    """A single-valued complex attribute named without a sub-attribute (``name``, ``manager``, ``meta``)."""

    def __init__(self, definition: Attribute, label: str, presence: Q, value: _Target | None) -> None:
        self.definition = definition
        self.label = label
        self.presence = presence
        self.value = value

    def compare(self, op: str, value: CompValue) -> Q:
        if op == "pr":
            return self.presence
        if self.value is not None:  # "manager eq ..." means manager.value, as for multi-valued attributes
            return self.value.compare(op, value)
        subs = ", ".join(sub.name for sub in self.definition.sub_attributes)
        example = self.definition.sub_attributes[0].name
        raise FilterCompileError(
            f"'{self.label}' is a complex attribute: compare one of its sub-attributes ({subs}), "
            f"as in '{self.label}.{example} {op} ...'"
        )


class _SchemasTarget(_Target):
    """``schemas`` (RFC 7643 §3): the core schema always, an extension when its URN key is in ``attributes``."""

    def __init__(self, compiler: _Compiler, label: str) -> None:
        self.compiler = compiler
        self.label = label

    def compare(self, op: str, value: CompValue) -> Q:
        if op == "pr":
            return _true()
        if op not in ("eq", "ne"):
            raise FilterCompileError(f"the '{op}' operator cannot be used with 'schemas'; use eq, ne or pr")
        if not isinstance(value, str):
            raise FilterCompileError(
                f"'schemas' holds schema URNs: compare it with a URN in double quotes, not {_describe(value)}"
            )
        matches = self._has(value)
        return matches if op == "eq" else ~matches

    def _has(self, urn: str) -> Q:
        folded = urn.casefold()
        if folded == _CORE_URNS[self.compiler.resource_type].casefold():
            return _true()
        if folded in (u.casefold() for u in _CORE_URNS.values()) or not _SAFE_KEY_RE.fullmatch(urn):
            return _false()
        return Q(_JsonOp(_JsonRef((self.compiler.step(urn, case_insensitive=True),)), "defined"))
