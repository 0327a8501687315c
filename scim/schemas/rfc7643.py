"""The User, Group and Enterprise User schemas of RFC 7643 (§3.1, §4, §8.7.1) and their resource types (§6, §8.6),
as data.

Where this server deviates from §8.7.1, the deviation is noted next to the attribute (and listed in
:mod:`scim.schemas`'s docstring).
"""

from __future__ import annotations

from typing import Any, Final

from scim.schemas.types import Attribute, Mutability, ResourceType, Schema, _check_unique_names
from scim.schemas.urns import ENTERPRISE_USER_URN, GROUP_URN, USER_URN

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
