"""Looking up schemas and attributes by name, case-insensitively (RFC 7643 §2.1, RFC 7644 §3.10)."""

from __future__ import annotations

from typing import Final

from scim.schemas.rfc7643 import ALL_SCHEMAS, COMMON_ATTRIBUTES
from scim.schemas.types import Attribute, Schema, _lookup

_SCHEMAS_BY_FOLDED_URN: Final = {urn.casefold(): schema for urn, schema in ALL_SCHEMAS.items()}


def get_schema(urn: str) -> Schema | None:
    """Return the schema whose URN is ``urn``, compared case-insensitively (RFC 7643 §2.1), or ``None``.

    Why not just ``ALL_SCHEMAS[urn]``: URNs arrive from clients in ``schemas`` arrays, ``/Schemas/{id}``
    paths and attribute paths, and their case must not matter.
    """
    return _SCHEMAS_BY_FOLDED_URN.get(urn.casefold())


# --------------------------------------------------------------------------------------------------
# Attribute resolution, RFC 7644 §3.10
# --------------------------------------------------------------------------------------------------


def find_attribute(
    resource_schema: Schema,
    extensions: tuple[Schema, ...],
    urn: str | None,
    name: str,
) -> tuple[Schema | None, Attribute] | None:
    """Resolve the top-level attribute of an attribute path (RFC 7644 §3.10) for one resource type.

    Returns ``(schema, attribute)`` -- ``schema`` is ``None`` for a common attribute (RFC 7643 §3.1),
    the schema that defines the attribute otherwise -- or ``None`` when the attribute is unknown, so the
    caller can answer ``invalidFilter``/``invalidPath``/``invalidValue`` (RFC 7644 §3.12).

    Without ``urn`` the name is looked up in the common attributes, then the core schema, then each
    extension in order (clients such as Entra ID send extension attributes unqualified in filters).
    With ``urn`` it must name the core schema (which also reaches the common attributes, since they are
    part of every core resource, e.g. ``urn:ietf:params:scim:schemas:core:2.0:User:id``) or one of the
    extensions; URNs and names are compared case-insensitively (RFC 7643 §2.1).
    """
    if urn is None:
        common = _lookup(COMMON_ATTRIBUTES, name)
        if common is not None:
            return None, common
        for schema in (resource_schema, *extensions):
            attribute = schema.attribute(name)
            if attribute is not None:
                return schema, attribute
        return None

    folded_urn = urn.casefold()
    if folded_urn == resource_schema.id.casefold():
        common = _lookup(COMMON_ATTRIBUTES, name)
        if common is not None:
            return None, common
        attribute = resource_schema.attribute(name)
        return (resource_schema, attribute) if attribute is not None else None
    for schema in extensions:
        if folded_urn == schema.id.casefold():
            attribute = schema.attribute(name)
            return (schema, attribute) if attribute is not None else None
    return None
