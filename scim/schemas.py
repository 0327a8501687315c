"""The SCIM 2.0 schema definitions of RFC 7643 as typed, immutable Python data.

Why data and not JSON files: every other part of the SCIM layer (validation of POST/PUT bodies, PATCH,
filtering, attribute projection with ``attributes``/``excludedAttributes``, the ``/Schemas`` and
``/ResourceTypes`` discovery endpoints) needs the same characteristics -- type, multiValued, mutability,
returned, caseExact, uniqueness -- and asking a frozen dataclass is cheaper, safer and easier to type-check
than walking a JSON document.  The discovery endpoints then render the very same objects, so what the
server advertises (RFC 7644 §4) can never drift from what it enforces.

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
  attributes, no complex sub-attributes per RFC 7643 §2.3.8, no duplicate names), so a typo in this
  module fails at import time instead of producing a wrong ``/Schemas`` response.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

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

# --------------------------------------------------------------------------------------------------
# URNs
# --------------------------------------------------------------------------------------------------

#: Resource schemas, RFC 7643 §8.7.1 (User, Group) and §4.3 (Enterprise User extension).
USER_URN: Final = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN: Final = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER_URN: Final = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

#: Service provider configuration schemas, RFC 7643 §5, §6, §7 (registered in §10.2).
SERVICE_PROVIDER_CONFIG_URN: Final = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_URN: Final = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_URN: Final = "urn:ietf:params:scim:schemas:core:2.0:Schema"

#: Protocol messages, RFC 7644 §3.4.2 (ListResponse), §3.4.3 (SearchRequest), §3.5.2 (PatchOp),
#: §3.7 (BulkRequest/BulkResponse) and §3.12 (Error).
LIST_RESPONSE_URN: Final = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_REQUEST_URN: Final = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
PATCH_OP_URN: Final = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK_REQUEST_URN: Final = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE_URN: Final = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
ERROR_URN: Final = "urn:ietf:params:scim:api:messages:2.0:Error"

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


# --------------------------------------------------------------------------------------------------
# Building blocks shared by the multi-valued attributes (RFC 7643 §2.4)
# --------------------------------------------------------------------------------------------------

_DISPLAY_DESCRIPTION: Final = "A human-readable name, primarily used for display purposes.  READ-ONLY."
_PRIMARY_DESCRIPTION: Final = (
    "A Boolean value indicating the 'primary' or preferred attribute value for this attribute{example}.  "
    "The primary attribute value 'true' MUST appear no more than once."
)


def _string(name: str, description: str, **characteristics: Any) -> Attribute:
    """A single-valued string attribute; the common case in RFC 7643 §4."""
    return Attribute(name=name, type="string", description=description, **characteristics)


def _display(mutability: Mutability = "readWrite", description: str = _DISPLAY_DESCRIPTION) -> Attribute:
    """The ``display`` sub-attribute of RFC 7643 §2.4 (readWrite in §8.7.1 despite "READ-ONLY")."""
    return _string("display", description, mutability=mutability)


def _label(description: str, canonical_values: tuple[str, ...] = (), mutability: Mutability = "readWrite") -> Attribute:
    """The ``type`` sub-attribute of RFC 7643 §2.4, with the canonical values of §4.1.2."""
    return _string("type", description, canonical_values=canonical_values, mutability=mutability)


def _primary(example: str = "") -> Attribute:
    """The ``primary`` sub-attribute of RFC 7643 §2.4."""
    return Attribute(name="primary", type="boolean", description=_PRIMARY_DESCRIPTION.format(example=example))


def _multi(name: str, description: str, sub_attributes: tuple[Attribute, ...], **characteristics: Any) -> Attribute:
    """A multi-valued complex attribute (RFC 7643 §2.4)."""
    return Attribute(
        name=name,
        type="complex",
        multi_valued=True,
        description=description,
        sub_attributes=sub_attributes,
        **characteristics,
    )


# --------------------------------------------------------------------------------------------------
# Common attributes, RFC 7643 §3.1
# --------------------------------------------------------------------------------------------------

#: ``id``, ``externalId`` and ``meta``: part of every resource, of no schema (RFC 7643 §3.1).
#: ``id`` is not ``required`` because "required" governs what clients send (RFC 7643 §2.2), and clients
#: never send the server-assigned, readOnly ``id``.
COMMON_ATTRIBUTES: Final[tuple[Attribute, ...]] = (
    _string(
        "id",
        "A unique identifier for a SCIM resource as defined by the service provider.",
        case_exact=True,
        mutability="readOnly",
        returned="always",
        uniqueness="server",
    ),
    _string(
        "externalId",
        "A String that is an identifier for the resource as defined by the provisioning client.",
        case_exact=True,
    ),
    Attribute(
        name="meta",
        type="complex",
        description="A complex attribute containing resource metadata.",
        mutability="readOnly",
        sub_attributes=(
            _string(
                "resourceType",
                "The name of the resource type of the resource.",
                case_exact=True,
                mutability="readOnly",
            ),
            Attribute(
                name="created",
                type="dateTime",
                description="The DateTime that the resource was added to the service provider.",
                mutability="readOnly",
            ),
            Attribute(
                name="lastModified",
                type="dateTime",
                description="The most recent DateTime that the details of this resource were updated at the "
                "service provider.",
                mutability="readOnly",
            ),
            Attribute(
                name="location",
                type="reference",
                description="The URI of the resource being returned.",
                reference_types=("uri",),
                mutability="readOnly",
            ),
            _string(
                "version",
                "The version of the resource being returned.",
                case_exact=True,
                mutability="readOnly",
            ),
        ),
    ),
)

_check_unique_names("common attributes", COMMON_ATTRIBUTES)

# --------------------------------------------------------------------------------------------------
# User, RFC 7643 §4.1 and §8.7.1
# --------------------------------------------------------------------------------------------------

USER_SCHEMA: Final = Schema(
    id=USER_URN,
    name="User",
    description="User Account",
    attributes=(
        _string(
            "userName",
            "Unique identifier for the User, typically used by the user to directly authenticate to the "
            "service provider.  Each User MUST include a non-empty userName value.  This identifier MUST be "
            "unique across the service provider's entire set of Users.  REQUIRED.",
            required=True,
            uniqueness="server",
        ),
        Attribute(
            name="name",
            type="complex",
            description="The components of the user's real name.  Providers MAY return just the full name as a "
            "single string in the formatted sub-attribute, or they MAY return just the individual component "
            "attributes using the other sub-attributes, or they MAY return both.  If both variants are "
            "returned, they SHOULD be describing the same name, with the formatted name indicating how the "
            "component attributes should be combined.",
            sub_attributes=(
                _string(
                    "formatted",
                    "The full name, including all middle names, titles, and suffixes as appropriate, formatted "
                    "for display (e.g., 'Ms. Barbara J Jensen, III').",
                ),
                _string(
                    "familyName",
                    "The family name of the User, or last name in most Western languages (e.g., 'Jensen' given "
                    "the full name 'Ms. Barbara J Jensen, III').",
                ),
                _string(
                    "givenName",
                    "The given name of the User, or first name in most Western languages (e.g., 'Barbara' given "
                    "the full name 'Ms. Barbara J Jensen, III').",
                ),
                _string(
                    "middleName",
                    "The middle name(s) of the User (e.g., 'Jane' given the full name 'Ms. Barbara J Jensen, III').",
                ),
                _string(
                    "honorificPrefix",
                    "The honorific prefix(es) of the User, or title in most Western languages (e.g., 'Ms.' "
                    "given the full name 'Ms. Barbara J Jensen, III').",
                ),
                _string(
                    "honorificSuffix",
                    "The honorific suffix(es) of the User, or suffix in most Western languages (e.g., 'III' "
                    "given the full name 'Ms. Barbara J Jensen, III').",
                ),
            ),
        ),
        _string(
            "displayName",
            "The name of the User, suitable for display to end-users.  The name SHOULD be the full name of "
            "the User being described, if known.",
        ),
        _string(
            "nickName",
            "The casual way to address the user in real life, e.g., 'Bob' or 'Bobby' instead of 'Robert'.  "
            "This attribute SHOULD NOT be used to represent a User's username (e.g., 'bjensen' or "
            "'mpepperidge').",
        ),
        Attribute(
            name="profileUrl",
            type="reference",
            description="A fully qualified URL pointing to a page representing the User's online profile.",
            reference_types=("external",),
        ),
        _string("title", 'The user\'s title, such as "Vice President."'),
        _string(
            "userType",
            "Used to identify the relationship between the organization and the user.  Typical values used "
            "might be 'Contractor', 'Employee', 'Intern', 'Temp', 'External', and 'Unknown', but any value "
            "may be used.",
        ),
        _string(
            "preferredLanguage",
            "Indicates the User's preferred written or spoken language.  Generally used for selecting a "
            "localized user interface; e.g., 'en_US' specifies the language English and country US.",
        ),
        _string(
            "locale",
            "Used to indicate the User's default location for purposes of localizing items such as "
            "currency, date time format, or numerical representations.",
        ),
        _string(
            "timezone",
            "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'.",
        ),
        Attribute(
            name="active",
            type="boolean",
            description="A Boolean value indicating the User's administrative status.",
        ),
        _string(
            "password",
            "The User's cleartext password.  This attribute is intended to be used as a means to specify an "
            "initial password when creating a new User or to reset an existing User's password.",
            mutability="writeOnly",
            returned="never",
        ),
        _multi(
            "emails",
            "Email addresses for the user.  The value SHOULD be canonicalized by the service provider, e.g., "
            "'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'.  Canonical type values of 'work', "
            "'home', and 'other'.",
            (
                _string(
                    "value",
                    "Email addresses for the user.  The value SHOULD be canonicalized by the service provider, "
                    "e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'.  Canonical type values of "
                    "'work', 'home', and 'other'.",
                ),
                _display(),
                _label(
                    "A label indicating the attribute's function, e.g., 'work' or 'home'.",
                    ("work", "home", "other"),
                ),
                _primary(", e.g., the preferred mailing address or primary email address"),
            ),
        ),
        _multi(
            "phoneNumbers",
            "Phone numbers for the User.  The value SHOULD be canonicalized by the service provider according "
            "to the format specified in RFC 3966, e.g., 'tel:+1-201-555-0123'.  Canonical type values of "
            "'work', 'home', 'mobile', 'fax', 'pager', and 'other'.",
            (
                _string("value", "Phone number of the User."),
                _display(),
                _label(
                    "A label indicating the attribute's function, e.g., 'work', 'home', 'mobile'.",
                    ("work", "home", "mobile", "fax", "pager", "other"),
                ),
                _primary(", e.g., the preferred phone number or primary phone number"),
            ),
        ),
        _multi(
            "ims",
            "Instant messaging addresses for the User.",
            (
                _string("value", "Instant messaging address for the User."),
                _display(),
                _label(
                    "A label indicating the attribute's function, e.g., 'aim', 'gtalk', 'xmpp'.",
                    ("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"),
                ),
                _primary(", e.g., the preferred messenger or primary messenger"),
            ),
        ),
        _multi(
            "photos",
            "URLs of photos of the User.",
            (
                Attribute(
                    name="value",
                    type="reference",
                    description="URL of a photo of the User.",
                    reference_types=("external",),
                ),
                _display(),
                _label(
                    "A label indicating the attribute's function, i.e., 'photo' or 'thumbnail'.",
                    ("photo", "thumbnail"),
                ),
                _primary(", e.g., the preferred photo or thumbnail"),
            ),
        ),
        _multi(
            "addresses",
            "A physical mailing address for this User.  Canonical type values of 'work', 'home', and "
            "'other'.  This attribute is a complex type with the following sub-attributes.",
            (
                _string(
                    "formatted",
                    "The full mailing address, formatted for display or use with a mailing label.  This "
                    "attribute MAY contain newlines.",
                ),
                _string(
                    "streetAddress",
                    "The full street address component, which may include house number, street name, P.O. "
                    "box, and multi-line extended street address information.  This attribute MAY contain "
                    "newlines.",
                ),
                _string("locality", "The city or locality component."),
                _string("region", "The state or region component."),
                _string("postalCode", "The zip code or postal code component."),
                _string("country", "The country name component."),
                _label(
                    "A label indicating the attribute's function, e.g., 'work' or 'home'.",
                    ("work", "home", "other"),
                ),
                # Not in §8.7.1, but defined by §2.4 and used on an address by the §8.2 example.
                _primary(", e.g., the preferred mailing address"),
            ),
        ),
        _multi(
            "groups",
            "A list of groups to which the user belongs, either through direct membership, through nested "
            "groups, or dynamically calculated.",
            (
                _string("value", "The identifier of the User's group.", mutability="readOnly"),
                Attribute(
                    name="$ref",
                    type="reference",
                    description="The URI of the corresponding 'Group' resource to which the user belongs.",
                    reference_types=("User", "Group"),
                    mutability="readOnly",
                ),
                _display(mutability="readOnly"),
                _label(
                    "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.",
                    ("direct", "indirect"),
                    mutability="readOnly",
                ),
            ),
            # RFC 7643 §4.1.2: group membership is changed through the Group resource, never the User.
            mutability="readOnly",
        ),
        _multi(
            "entitlements",
            "A list of entitlements for the User that represent a thing the User has.",
            (
                _string("value", "The value of an entitlement."),
                _display(),
                _label("A label indicating the attribute's function."),
                _primary(),
            ),
        ),
        _multi(
            "roles",
            "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.",
            (
                _string("value", "The value of a role."),
                _display(),
                _label("A label indicating the attribute's function."),
                _primary(),
            ),
        ),
        _multi(
            "x509Certificates",
            "A list of certificates issued to the User.",
            (
                Attribute(name="value", type="binary", description="The value of an X.509 certificate."),
                _display(),
                _label("A label indicating the attribute's function."),
                _primary(),
            ),
        ),
    ),
)

# --------------------------------------------------------------------------------------------------
# Group, RFC 7643 §4.2 and §8.7.1
# --------------------------------------------------------------------------------------------------

GROUP_SCHEMA: Final = Schema(
    id=GROUP_URN,
    name="Group",
    description="Group",
    attributes=(
        # required: §4.2 says "REQUIRED."; §8.7.1 says "required": false (see the module docstring).
        _string("displayName", "A human-readable name for the Group.  REQUIRED.", required=True),
        _multi(
            "members",
            "A list of members of the Group.",
            (
                _string("value", "Identifier of the member of this Group.", mutability="immutable"),
                Attribute(
                    name="$ref",
                    type="reference",
                    description="The URI corresponding to a SCIM resource that is a member of this Group.",
                    reference_types=("User", "Group"),
                    mutability="immutable",
                ),
                # Not in §8.7.1; sent by identity providers, immutable like every member sub-attribute (§4.2).
                _display(
                    mutability="immutable",
                    description="A human-readable name for the member, primarily used for display purposes.",
                ),
                _label(
                    "A label indicating the type of resource, e.g., 'User' or 'Group'.",
                    ("User", "Group"),
                    mutability="immutable",
                ),
            ),
        ),
    ),
)

# --------------------------------------------------------------------------------------------------
# Enterprise User extension, RFC 7643 §4.3 and §8.7.1
# --------------------------------------------------------------------------------------------------

ENTERPRISE_USER_SCHEMA: Final = Schema(
    id=ENTERPRISE_USER_URN,
    name="EnterpriseUser",
    description="Enterprise User",
    attributes=(
        _string(
            "employeeNumber",
            "Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or "
            "association with an organization.",
        ),
        _string("costCenter", "Identifies the name of a cost center."),
        _string("organization", "Identifies the name of an organization."),
        _string("division", "Identifies the name of a division."),
        _string("department", "Identifies the name of a department."),
        Attribute(
            name="manager",
            type="complex",
            description="The User's manager.  A complex type that optionally allows service providers to "
            "represent organizational hierarchy by referencing the 'id' attribute of another User.",
            sub_attributes=(
                _string("value", "The id of the SCIM resource representing the User's manager.  REQUIRED."),
                Attribute(
                    name="$ref",
                    type="reference",
                    description="The URI of the SCIM resource representing the User's manager.  REQUIRED.",
                    reference_types=("User",),
                ),
                _string(
                    "displayName",
                    "The displayName of the User's manager.  OPTIONAL and READ-ONLY.",
                    mutability="readOnly",
                ),
            ),
        ),
    ),
)

#: The resource schemas this server knows, by URN (RFC 7644 §4: what ``/Schemas`` lists).
ALL_SCHEMAS: Final[dict[str, Schema]] = {
    schema.id: schema for schema in (USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA)
}

_SCHEMAS_BY_FOLDED_URN: Final = {urn.casefold(): schema for urn, schema in ALL_SCHEMAS.items()}


def get_schema(urn: str) -> Schema | None:
    """Return the schema whose URN is ``urn``, compared case-insensitively (RFC 7643 §2.1), or ``None``.

    Why not just ``ALL_SCHEMAS[urn]``: URNs arrive from clients in ``schemas`` arrays, ``/Schemas/{id}``
    paths and attribute paths, and their case must not matter.
    """
    return _SCHEMAS_BY_FOLDED_URN.get(urn.casefold())


# --------------------------------------------------------------------------------------------------
# Resource types, RFC 7643 §6 and §8.6
# --------------------------------------------------------------------------------------------------

USER_RESOURCE_TYPE: Final = ResourceType(
    id="User",
    name="User",
    endpoint="/Users",
    description="User Account",
    schema=USER_SCHEMA,
    extensions=((ENTERPRISE_USER_SCHEMA, False),),
)

GROUP_RESOURCE_TYPE: Final = ResourceType(
    id="Group",
    name="Group",
    endpoint="/Groups",
    description="Group",
    schema=GROUP_SCHEMA,
)

#: The resource types this server serves, by id (RFC 7644 §4: what ``/ResourceTypes`` lists).
RESOURCE_TYPES: Final[dict[str, ResourceType]] = {
    resource_type.id: resource_type for resource_type in (USER_RESOURCE_TYPE, GROUP_RESOURCE_TYPE)
}

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
