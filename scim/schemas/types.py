"""The typed vocabulary of RFC 7643: :class:`Attribute`, :class:`Schema` and :class:`ResourceType`.

Immutable dataclasses with the characteristics of RFC 7643 §2.2 and §7, validated on construction, and rendered
as the discovery documents of RFC 7643 §6 and §7 (``to_representation``).  The definitions themselves are data
in :mod:`scim.schemas.rfc7643`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from scim.schemas.urns import RESOURCE_TYPE_URN, SCHEMA_URN

# --------------------------------------------------------------------------------------------------
# Characteristics (RFC 7643 §2.2, §2.3, §7)
# --------------------------------------------------------------------------------------------------

#: Attribute data types, RFC 7643 §2.3.
AttributeType = Literal["string", "boolean", "decimal", "integer", "dateTime", "reference", "complex", "binary"]
#: When an attribute may be written, RFC 7643 §7 ("mutability").
Mutability = Literal["readOnly", "readWrite", "immutable", "writeOnly"]
#: When an attribute is returned, RFC 7643 §7 ("returned").
Returned = Literal["always", "never", "default", "request"]
#: How an attribute's values must be unique, RFC 7643 §7 ("uniqueness").
Uniqueness = Literal["none", "server", "global"]

_TYPES: Final = frozenset(get_args(AttributeType))
_MUTABILITIES: Final = frozenset(get_args(Mutability))
_RETURNED: Final = frozenset(get_args(Returned))
_UNIQUENESSES: Final = frozenset(get_args(Uniqueness))


def _check_unique_names(owner: str, attributes: tuple[Attribute, ...]) -> None:
    """Refuse two attributes whose names differ only in case: names are case-insensitive (RFC 7643 §2.1),
    so a lookup could not tell them apart."""
    seen: set[str] = set()
    for attribute in attributes:
        key = attribute.name.casefold()
        if key in seen:
            raise ValueError(f"{owner}: duplicate attribute name {attribute.name!r}")
        seen.add(key)


def _lookup(attributes: tuple[Attribute, ...], name: str) -> Attribute | None:
    """Find ``name`` among ``attributes`` case-insensitively (RFC 7643 §2.1).

    A linear scan: the longest list (the User schema) has 21 entries, so an index would not pay off and
    would show up as an extra dataclass field.
    """
    key = name.casefold()
    return next((attribute for attribute in attributes if attribute.name.casefold() == key), None)


@dataclass(frozen=True)
class Attribute:
    """One attribute definition with the characteristics of RFC 7643 §2.2 and §7.

    Defaults are the RFC 7643 §2.2 defaults (not required, caseExact false, readWrite, returned
    "default", uniqueness "none").
    """

    name: str
    type: AttributeType
    multi_valued: bool = False
    description: str = ""
    required: bool = False
    case_exact: bool = False
    mutability: Mutability = "readWrite"
    returned: Returned = "default"
    uniqueness: Uniqueness = "none"
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    sub_attributes: tuple[Attribute, ...] = ()

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise ValueError(f"{self.name}: unknown type {self.type!r} (RFC 7643 §2.3)")
        if self.mutability not in _MUTABILITIES:
            raise ValueError(f"{self.name}: unknown mutability {self.mutability!r} (RFC 7643 §7)")
        if self.returned not in _RETURNED:
            raise ValueError(f"{self.name}: unknown returned {self.returned!r} (RFC 7643 §7)")
        if self.uniqueness not in _UNIQUENESSES:
            raise ValueError(f"{self.name}: unknown uniqueness {self.uniqueness!r} (RFC 7643 §7)")
        if self.reference_types and self.type != "reference":
            raise ValueError(f"{self.name}: referenceTypes only apply to reference attributes (RFC 7643 §7)")
        if self.type == "complex":
            if not self.sub_attributes:
                raise ValueError(f"{self.name}: a complex attribute needs sub-attributes (RFC 7643 §2.3.8)")
            for sub in self.sub_attributes:
                if sub.type == "complex":
                    raise ValueError(
                        f"{self.name}.{sub.name}: complex sub-attributes are not allowed (RFC 7643 §2.3.8)"
                    )
        elif self.sub_attributes:
            raise ValueError(f"{self.name}: only complex attributes have sub-attributes (RFC 7643 §2.3.8)")
        _check_unique_names(self.name, self.sub_attributes)

    def sub_attribute(self, name: str) -> Attribute | None:
        """Return the sub-attribute called ``name`` (case-insensitive, RFC 7643 §2.1), or ``None``."""
        return _lookup(self.sub_attributes, name)

    def to_representation(self) -> dict[str, Any]:
        """Render the attribute definition as in RFC 7643 §7 (the ``attributes`` of a Schema resource)."""
        representation: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": self.mutability,
            "returned": self.returned,
            "uniqueness": self.uniqueness,
        }
        if self.canonical_values:
            representation["canonicalValues"] = list(self.canonical_values)
        if self.type == "reference":
            representation["referenceTypes"] = list(self.reference_types)
        if self.type == "complex":
            representation["subAttributes"] = [sub.to_representation() for sub in self.sub_attributes]
        return representation


@dataclass(frozen=True)
class Schema:
    """A resource schema (RFC 7643 §2, §7): a URN ``id`` plus its top-level attributes.

    The common attributes of RFC 7643 §3.1 are deliberately not part of ``attributes``; see
    :data:`COMMON_ATTRIBUTES` and :func:`find_attribute`.
    """

    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]

    def __post_init__(self) -> None:
        _check_unique_names(self.id, self.attributes)

    def attribute(self, name: str) -> Attribute | None:
        """Return the top-level attribute called ``name`` (case-insensitive, RFC 7643 §2.1), or ``None``."""
        return _lookup(self.attributes, name)

    def to_representation(self, location: str) -> dict[str, Any]:
        """Render the schema as a Schema resource (RFC 7643 §7, §8.7.1) served at ``location``."""
        return {
            "schemas": [SCHEMA_URN],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": [attribute.to_representation() for attribute in self.attributes],
            "meta": {"resourceType": "Schema", "location": location},
        }


@dataclass(frozen=True)
class ResourceType:
    """A resource type (RFC 7643 §6): the endpoint, core schema and schema extensions of a resource.

    ``extensions`` pairs each extension schema with whether resources of this type must include it
    (the ``required`` of ``schemaExtensions``).
    """

    id: str
    name: str
    endpoint: str
    description: str
    schema: Schema
    extensions: tuple[tuple[Schema, bool], ...] = ()

    @property
    def extension_schemas(self) -> tuple[Schema, ...]:
        """The extension schemas alone, in the shape :func:`find_attribute` takes."""
        return tuple(schema for schema, _required in self.extensions)

    def to_representation(self, location: str) -> dict[str, Any]:
        """Render as a ResourceType resource (RFC 7643 §6, example in §8.6) served at ``location``.

        ``schemaExtensions`` is optional (RFC 7643 §6) and, as in the §8.6 Group example, left out when
        the resource type has no extension.
        """
        representation: dict[str, Any] = {
            "schemas": [RESOURCE_TYPE_URN],
            "id": self.id,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.schema.id,
        }
        if self.extensions:
            representation["schemaExtensions"] = [
                {"schema": schema.id, "required": required} for schema, required in self.extensions
            ]
        representation["meta"] = {"resourceType": "ResourceType", "location": location}
        return representation
