"""The SCIM 2.0 schema definitions of RFC 7643 as typed, immutable Python data.

Why data and not JSON files: every other part of the SCIM layer (validation of POST/PUT bodies, PATCH,
filtering, attribute projection with ``attributes``/``excludedAttributes``, the ``/Schemas`` and
``/ResourceTypes`` discovery endpoints) needs the same characteristics -- type, multiValued, mutability,
returned, caseExact, uniqueness -- and asking a frozen dataclass is cheaper, safer and easier to type-check
than walking a JSON document.  The discovery endpoints then render the very same objects, so what the
server advertises (RFC 7644 §4) can never drift from what it enforces.

Where things are: the URNs in :mod:`scim.schemas.urns`; the typed classes :class:`Attribute`,
:class:`Schema` and :class:`ResourceType`, with their discovery renderings (``to_representation``), in
:mod:`scim.schemas.types`; the User, Group and Enterprise User schemas and the resource types, as data, in
:mod:`scim.schemas.rfc7643`; :func:`get_schema` and :func:`find_attribute` in :mod:`scim.schemas.lookup`.
Import them from here.

Sources and decisions worth knowing:

* RFC 7643 §8.7.1 (the full JSON representation of the User, Group and Enterprise User schemas) is the
  source of truth for every characteristic.  Where it is silent or contradicts the normative prose, the
  prose of §4 wins, and the deviation is noted next to the attribute:

  - Group ``displayName`` is ``required`` here: §4.2 says "REQUIRED." while §8.7.1 sets
    ``"required": false`` (its description still ends in "REQUIRED.").
  - ``addresses`` has a ``primary`` sub-attribute: §2.4 defines ``primary`` for multi-valued attributes
    and the §8.2 example sends ``"primary": true`` on an address, but §8.7.1 omits it.
  - Group ``members`` has a ``display`` sub-attribute (immutable, like every member sub-attribute per
    §4.2): §8.7.1 omits it, yet identity providers (Okta, Entra ID) send it and §2.4 defines it for
    multi-valued attributes.

* The common attributes ``id``, ``externalId`` and ``meta`` (RFC 7643 §3.1) belong to every resource
  but to no schema, so they live in :data:`COMMON_ATTRIBUTES` and are not listed in the schema
  representations -- exactly as §8.7.1 does not list them.
* Attribute names and schema URNs are matched case-insensitively (RFC 7643 §2.1, RFC 7644 §3.10).
* :meth:`Attribute.to_representation` always emits ``caseExact`` and ``uniqueness`` (RFC 7643 §7 lists
  them for every attribute), ``canonicalValues`` only when there are some, ``referenceTypes`` only for
  ``reference`` attributes and ``subAttributes`` only for ``complex`` ones.
* Construction validates the characteristics (known keywords, sub-attributes exactly on complex
  attributes, no complex sub-attributes per RFC 7643 §2.3.8, no duplicate names), so a typo in these
  modules fails at import time instead of producing a wrong ``/Schemas`` response.
"""

from __future__ import annotations

from scim.schemas.lookup import find_attribute, get_schema
from scim.schemas.rfc7643 import (
    ALL_SCHEMAS,
    COMMON_ATTRIBUTES,
    ENTERPRISE_USER_SCHEMA,
    GROUP_RESOURCE_TYPE,
    GROUP_SCHEMA,
    RESOURCE_TYPES,
    USER_RESOURCE_TYPE,
    USER_SCHEMA,
)
from scim.schemas.types import Attribute, AttributeType, Mutability, ResourceType, Returned, Schema, Uniqueness
from scim.schemas.urns import (
    BULK_REQUEST_URN,
    BULK_RESPONSE_URN,
    ENTERPRISE_USER_URN,
    ERROR_URN,
    GROUP_URN,
    LIST_RESPONSE_URN,
    PATCH_OP_URN,
    RESOURCE_TYPE_URN,
    SCHEMA_URN,
    SEARCH_REQUEST_URN,
    SERVICE_PROVIDER_CONFIG_URN,
    USER_URN,
)

__all__ = [
    "ALL_SCHEMAS",
    "BULK_REQUEST_URN",
    "BULK_RESPONSE_URN",
    "COMMON_ATTRIBUTES",
    "ENTERPRISE_USER_SCHEMA",
    "ENTERPRISE_USER_URN",
    "ERROR_URN",
    "GROUP_RESOURCE_TYPE",
    "GROUP_SCHEMA",
    "GROUP_URN",
    "LIST_RESPONSE_URN",
    "PATCH_OP_URN",
    "RESOURCE_TYPES",
    "RESOURCE_TYPE_URN",
    "SCHEMA_URN",
    "SEARCH_REQUEST_URN",
    "SERVICE_PROVIDER_CONFIG_URN",
    "USER_RESOURCE_TYPE",
    "USER_SCHEMA",
    "USER_URN",
    "Attribute",
    "AttributeType",
    "Mutability",
    "ResourceType",
    "Returned",
    "Schema",
    "Uniqueness",
    "find_attribute",
    "get_schema",
]
