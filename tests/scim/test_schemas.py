"""Tests for scim.schemas: the RFC 7643 schema definitions and attribute resolution.

The expected values are transcribed from RFC 7643 §8.7.1 (the JSON representation of the User, Group and
Enterprise User schemas), §3.1 (common attributes), §6/§8.6 (resource types) and §7 (the shape of a
Schema resource), so a regression in any characteristic a conformance suite looks at fails here.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from scim.schemas import (
    ALL_SCHEMAS,
    BULK_REQUEST_URN,
    BULK_RESPONSE_URN,
    COMMON_ATTRIBUTES,
    ENTERPRISE_USER_SCHEMA,
    ENTERPRISE_USER_URN,
    ERROR_URN,
    GROUP_SCHEMA,
    GROUP_URN,
    LIST_RESPONSE_URN,
    PATCH_OP_URN,
    RESOURCE_TYPE_URN,
    RESOURCE_TYPES,
    SCHEMA_URN,
    SEARCH_REQUEST_URN,
    SERVICE_PROVIDER_CONFIG_URN,
    USER_SCHEMA,
    USER_URN,
    Attribute,
    ResourceType,
    Schema,
    find_attribute,
    get_schema,
)

SCHEMAS = (USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA)
EXTENSIONS = (ENTERPRISE_USER_SCHEMA,)

ATTRIBUTE_KEYS = {
    "name",
    "type",
    "multiValued",
    "description",
    "required",
    "caseExact",
    "mutability",
    "returned",
    "uniqueness",
}
OPTIONAL_ATTRIBUTE_KEYS = {"canonicalValues", "referenceTypes", "subAttributes"}


def resolve(schema: Schema, path: str) -> Attribute:
    """Look up ``attr`` or ``attr.sub`` in ``schema``, failing the test if it is missing."""
    name, _, sub = path.partition(".")
    attribute = schema.attribute(name)
    assert attribute is not None, f"{schema.name} has no attribute {name!r}"
    if sub:
        sub_attribute = attribute.sub_attribute(sub)
        assert sub_attribute is not None, f"{schema.name}.{name} has no sub-attribute {sub!r}"
        return sub_attribute
    return attribute


def all_attributes() -> list[tuple[str, Attribute]]:
    """Every attribute and sub-attribute of every schema and of the common attributes, with a label."""
    found: list[tuple[str, Attribute]] = []
    for owner, attributes in [(schema.name, schema.attributes) for schema in SCHEMAS] + [("common", COMMON_ATTRIBUTES)]:
        for attribute in attributes:
            found.append((f"{owner}:{attribute.name}", attribute))
            found.extend((f"{owner}:{attribute.name}.{sub.name}", sub) for sub in attribute.sub_attributes)
    return found


# --------------------------------------------------------------------------------------------------
# Characteristics a conformance suite checks (RFC 7643 §8.7.1, §3.1)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "path", "expected"),
    [
        (
            USER_SCHEMA,
            "userName",
            {
                "type": "string",
                "required": True,
                "case_exact": False,
                "uniqueness": "server",
                "mutability": "readWrite",
                "returned": "default",
                "multi_valued": False,
            },
        ),
        (USER_SCHEMA, "password", {"type": "string", "mutability": "writeOnly", "returned": "never"}),
        (USER_SCHEMA, "groups", {"type": "complex", "multi_valued": True, "mutability": "readOnly"}),
        (USER_SCHEMA, "groups.value", {"mutability": "readOnly"}),
        (USER_SCHEMA, "groups.$ref", {"type": "reference", "reference_types": ("User", "Group")}),
        (USER_SCHEMA, "groups.display", {"mutability": "readOnly"}),
        (USER_SCHEMA, "groups.type", {"canonical_values": ("direct", "indirect"), "mutability": "readOnly"}),
        (USER_SCHEMA, "emails", {"type": "complex", "multi_valued": True, "mutability": "readWrite"}),
        (USER_SCHEMA, "emails.primary", {"type": "boolean", "multi_valued": False}),
        (USER_SCHEMA, "name", {"type": "complex", "multi_valued": False}),
        (USER_SCHEMA, "active", {"type": "boolean", "multi_valued": False}),
        (USER_SCHEMA, "profileUrl", {"type": "reference", "reference_types": ("external",)}),
        (USER_SCHEMA, "photos.value", {"type": "reference", "reference_types": ("external",)}),
        (USER_SCHEMA, "x509Certificates.value", {"type": "binary"}),
        (USER_SCHEMA, "displayName", {"type": "string", "required": False, "uniqueness": "none"}),
        (GROUP_SCHEMA, "displayName", {"type": "string", "required": True, "case_exact": False}),
        (GROUP_SCHEMA, "members", {"type": "complex", "multi_valued": True, "mutability": "readWrite"}),
        (GROUP_SCHEMA, "members.value", {"type": "string", "mutability": "immutable"}),
        (
            GROUP_SCHEMA,
            "members.$ref",
            {"type": "reference", "reference_types": ("User", "Group"), "mutability": "immutable"},
        ),
        (GROUP_SCHEMA, "members.type", {"canonical_values": ("User", "Group"), "mutability": "immutable"}),
        (ENTERPRISE_USER_SCHEMA, "manager", {"type": "complex", "multi_valued": False, "mutability": "readWrite"}),
        (ENTERPRISE_USER_SCHEMA, "manager.value", {"type": "string", "mutability": "readWrite"}),
        (ENTERPRISE_USER_SCHEMA, "manager.$ref", {"type": "reference", "reference_types": ("User",)}),
        (ENTERPRISE_USER_SCHEMA, "manager.displayName", {"type": "string", "mutability": "readOnly"}),
    ],
)
def test_rfc_characteristics(schema: Schema, path: str, expected: dict[str, Any]) -> None:
    attribute = resolve(schema, path)
    actual = {key: getattr(attribute, key) for key in expected}
    assert actual == expected


def test_common_attribute_characteristics() -> None:
    common = {attribute.name: attribute for attribute in COMMON_ATTRIBUTES}
    assert list(common) == ["id", "externalId", "meta"]
    identifier = common["id"]
    assert (identifier.type, identifier.mutability, identifier.returned) == ("string", "readOnly", "always")
    assert identifier.case_exact is True
    assert identifier.uniqueness == "server"
    external = common["externalId"]
    assert (external.type, external.case_exact, external.mutability) == ("string", True, "readWrite")
    meta = common["meta"]
    assert (meta.type, meta.multi_valued, meta.mutability) == ("complex", False, "readOnly")
    assert [sub.name for sub in meta.sub_attributes] == [
        "resourceType",
        "created",
        "lastModified",
        "location",
        "version",
    ]
    assert all(sub.mutability == "readOnly" for sub in meta.sub_attributes)
    assert meta.sub_attribute("created").type == "dateTime"
    assert meta.sub_attribute("lastModified").type == "dateTime"
    assert meta.sub_attribute("location").type == "reference"
    assert meta.sub_attribute("version").case_exact is True


def test_user_has_every_rfc_attribute_in_order() -> None:
    assert [attribute.name for attribute in USER_SCHEMA.attributes] == [
        "userName",
        "name",
        "displayName",
        "nickName",
        "profileUrl",
        "title",
        "userType",
        "preferredLanguage",
        "locale",
        "timezone",
        "active",
        "password",
        "emails",
        "phoneNumbers",
        "ims",
        "photos",
        "addresses",
        "groups",
        "entitlements",
        "roles",
        "x509Certificates",
    ]


def test_group_and_enterprise_attributes() -> None:
    assert [attribute.name for attribute in GROUP_SCHEMA.attributes] == ["displayName", "members"]
    assert [attribute.name for attribute in ENTERPRISE_USER_SCHEMA.attributes] == [
        "employeeNumber",
        "costCenter",
        "organization",
        "division",
        "department",
        "manager",
    ]


@pytest.mark.parametrize(
    ("schema", "name", "sub_attributes"),
    [
        (
            USER_SCHEMA,
            "name",
            ["formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"],
        ),
        (USER_SCHEMA, "emails", ["value", "display", "type", "primary"]),
        (USER_SCHEMA, "phoneNumbers", ["value", "display", "type", "primary"]),
        (USER_SCHEMA, "ims", ["value", "display", "type", "primary"]),
        (USER_SCHEMA, "photos", ["value", "display", "type", "primary"]),
        (
            USER_SCHEMA,
            "addresses",
            ["formatted", "streetAddress", "locality", "region", "postalCode", "country", "type", "primary"],
        ),
        (USER_SCHEMA, "groups", ["value", "$ref", "display", "type"]),
        (USER_SCHEMA, "entitlements", ["value", "display", "type", "primary"]),
        (USER_SCHEMA, "roles", ["value", "display", "type", "primary"]),
        (USER_SCHEMA, "x509Certificates", ["value", "display", "type", "primary"]),
        (GROUP_SCHEMA, "members", ["value", "$ref", "display", "type"]),
        (ENTERPRISE_USER_SCHEMA, "manager", ["value", "$ref", "displayName"]),
    ],
)
def test_sub_attributes(schema: Schema, name: str, sub_attributes: list[str]) -> None:
    attribute = resolve(schema, name)
    assert [sub.name for sub in attribute.sub_attributes] == sub_attributes


@pytest.mark.parametrize(
    ("path", "values"),
    [
        ("emails.type", ("work", "home", "other")),
        ("phoneNumbers.type", ("work", "home", "mobile", "fax", "pager", "other")),
        ("ims.type", ("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo")),
        ("photos.type", ("photo", "thumbnail")),
        ("addresses.type", ("work", "home", "other")),
        ("groups.type", ("direct", "indirect")),
        ("entitlements.type", ()),
        ("roles.type", ()),
        ("x509Certificates.type", ()),
    ],
)
def test_canonical_values(path: str, values: tuple[str, ...]) -> None:
    assert resolve(USER_SCHEMA, path).canonical_values == values


def test_only_the_rfc_attributes_are_not_read_write() -> None:
    """Everything else in §8.7.1 is readWrite; a stray readOnly would make the server drop client data."""
    not_read_write = {
        label: attribute.mutability for label, attribute in all_attributes() if attribute.mutability != "readWrite"
    }
    assert not_read_write == {
        "User:password": "writeOnly",
        "User:groups": "readOnly",
        "User:groups.value": "readOnly",
        "User:groups.$ref": "readOnly",
        "User:groups.display": "readOnly",
        "User:groups.type": "readOnly",
        "Group:members.value": "immutable",
        "Group:members.$ref": "immutable",
        "Group:members.display": "immutable",
        "Group:members.type": "immutable",
        "EnterpriseUser:manager.displayName": "readOnly",
        "common:id": "readOnly",
        "common:meta": "readOnly",
        "common:meta.resourceType": "readOnly",
        "common:meta.created": "readOnly",
        "common:meta.lastModified": "readOnly",
        "common:meta.location": "readOnly",
        "common:meta.version": "readOnly",
    }


def test_only_the_rfc_attributes_are_required_unique_or_not_returned_by_default() -> None:
    required = [label for label, attribute in all_attributes() if attribute.required]
    assert required == ["User:userName", "Group:displayName"]
    unique = {label: attribute.uniqueness for label, attribute in all_attributes() if attribute.uniqueness != "none"}
    assert unique == {"User:userName": "server", "common:id": "server"}
    returned = {label: attribute.returned for label, attribute in all_attributes() if attribute.returned != "default"}
    assert returned == {"User:password": "never", "common:id": "always"}


# --------------------------------------------------------------------------------------------------
# Structural invariants (RFC 7643 §2.3.8, §7)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("label", "attribute"), all_attributes(), ids=[label for label, _ in all_attributes()])
def test_complex_attributes_and_only_they_have_sub_attributes(label: str, attribute: Attribute) -> None:
    if attribute.type == "complex":
        assert attribute.sub_attributes, label
        assert all(sub.type != "complex" for sub in attribute.sub_attributes), label
    else:
        assert attribute.sub_attributes == (), label
    if attribute.type != "reference":
        assert attribute.reference_types == (), label
    else:
        assert attribute.reference_types, label


def test_every_attribute_has_a_description() -> None:
    assert [label for label, attribute in all_attributes() if not attribute.description.strip()] == []


def test_common_attributes_are_not_in_any_schema() -> None:
    for schema in SCHEMAS:
        for common in COMMON_ATTRIBUTES:
            assert schema.attribute(common.name) is None
        names = {attribute["name"] for attribute in schema.to_representation("/x")["attributes"]}
        assert names.isdisjoint({"id", "externalId", "meta"})


def test_attribute_validation() -> None:
    with pytest.raises(ValueError, match="unknown type"):
        Attribute(name="x", type="text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown mutability"):
        Attribute(name="x", type="string", mutability="readonly")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown returned"):
        Attribute(name="x", type="string", returned="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown uniqueness"):
        Attribute(name="x", type="string", uniqueness="local")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs sub-attributes"):
        Attribute(name="x", type="complex")
    with pytest.raises(ValueError, match="only complex"):
        Attribute(name="x", type="string", sub_attributes=(Attribute(name="y", type="string"),))
    nested = Attribute(name="y", type="complex", sub_attributes=(Attribute(name="z", type="string"),))
    with pytest.raises(ValueError, match="complex sub-attributes"):
        Attribute(name="x", type="complex", sub_attributes=(nested,))
    with pytest.raises(ValueError, match="referenceTypes"):
        Attribute(name="x", type="string", reference_types=("User",))
    with pytest.raises(ValueError, match="duplicate"):
        Attribute(
            name="x",
            type="complex",
            sub_attributes=(Attribute(name="value", type="string"), Attribute(name="VALUE", type="string")),
        )
    with pytest.raises(ValueError, match="duplicate"):
        Schema(id="urn:x", name="X", description="", attributes=(Attribute(name="a", type="string"),) * 2)


def test_definitions_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        USER_SCHEMA.attributes[0].required = False  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        USER_SCHEMA.id = "urn:other"  # type: ignore[misc]
    assert hash(USER_SCHEMA) == hash(USER_SCHEMA)


# --------------------------------------------------------------------------------------------------
# Representations (RFC 7643 §6, §7, §8.7.1)
# --------------------------------------------------------------------------------------------------


def check_attribute_representation(representation: dict[str, Any], *, nested: bool = False) -> None:
    """Only RFC 7643 §7 keys, each with the JSON type §7 gives it."""
    keys = set(representation)
    assert keys >= ATTRIBUTE_KEYS, representation
    assert keys - ATTRIBUTE_KEYS <= OPTIONAL_ATTRIBUTE_KEYS, representation
    for key in ("name", "type", "description", "mutability", "returned", "uniqueness"):
        assert type(representation[key]) is str, (representation["name"], key)
    for key in ("multiValued", "required", "caseExact"):
        assert type(representation[key]) is bool, (representation["name"], key)
    assert ("referenceTypes" in representation) == (representation["type"] == "reference")
    assert ("subAttributes" in representation) == (representation["type"] == "complex")
    for key in ("canonicalValues", "referenceTypes"):
        if key in representation:
            assert type(representation[key]) is list
            assert representation[key]
            assert all(type(value) is str for value in representation[key])
    if "subAttributes" in representation:
        assert not nested, "sub-attributes cannot have sub-attributes (RFC 7643 §2.3.8)"
        assert type(representation["subAttributes"]) is list
        assert representation["subAttributes"]
        for sub in representation["subAttributes"]:
            check_attribute_representation(sub, nested=True)


@pytest.mark.parametrize("schema", SCHEMAS, ids=[schema.name for schema in SCHEMAS])
def test_schema_representation_shape(schema: Schema) -> None:
    location = f"https://example.com/scim/v2/Schemas/{schema.id}"
    representation = schema.to_representation(location)
    assert set(representation) == {"schemas", "id", "name", "description", "attributes", "meta"}
    assert representation["schemas"] == [SCHEMA_URN]
    assert representation["id"] == schema.id
    assert type(representation["name"]) is str
    assert type(representation["description"]) is str
    assert representation["meta"] == {"resourceType": "Schema", "location": location}
    assert len(representation["attributes"]) == len(schema.attributes)
    for attribute in representation["attributes"]:
        check_attribute_representation(attribute)
    assert json.loads(json.dumps(representation)) == representation


def test_schema_names_and_descriptions() -> None:
    assert (USER_SCHEMA.name, USER_SCHEMA.description) == ("User", "User Account")
    assert (GROUP_SCHEMA.name, GROUP_SCHEMA.description) == ("Group", "Group")
    assert (ENTERPRISE_USER_SCHEMA.name, ENTERPRISE_USER_SCHEMA.description) == ("EnterpriseUser", "Enterprise User")


def test_attribute_representation_values() -> None:
    user_name = USER_SCHEMA.attribute("userName").to_representation()
    assert {key: value for key, value in user_name.items() if key != "description"} == {
        "name": "userName",
        "type": "string",
        "multiValued": False,
        "required": True,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "server",
    }
    emails_type = resolve(USER_SCHEMA, "emails.type").to_representation()
    assert emails_type["canonicalValues"] == ["work", "home", "other"]
    assert "referenceTypes" not in emails_type
    members = GROUP_SCHEMA.attribute("members").to_representation()
    ref = next(sub for sub in members["subAttributes"] if sub["name"] == "$ref")
    assert ref["referenceTypes"] == ["User", "Group"]
    assert ref["mutability"] == "immutable"
    assert "canonicalValues" not in resolve(USER_SCHEMA, "roles.type").to_representation()
    assert "subAttributes" not in USER_SCHEMA.attribute("active").to_representation()


def test_common_attribute_representations() -> None:
    for attribute in COMMON_ATTRIBUTES:
        representation = attribute.to_representation()
        check_attribute_representation(representation)
        assert json.loads(json.dumps(representation)) == representation


def test_resource_types() -> None:
    assert list(RESOURCE_TYPES) == ["User", "Group"]
    user, group = RESOURCE_TYPES["User"], RESOURCE_TYPES["Group"]
    assert isinstance(user, ResourceType)
    assert (user.endpoint, user.schema, user.extensions) == ("/Users", USER_SCHEMA, ((ENTERPRISE_USER_SCHEMA, False),))
    assert user.extension_schemas == (ENTERPRISE_USER_SCHEMA,)
    assert (group.endpoint, group.schema, group.extensions, group.extension_schemas) == (
        "/Groups",
        GROUP_SCHEMA,
        (),
        (),
    )


def test_resource_type_representations() -> None:
    user = RESOURCE_TYPES["User"].to_representation("https://example.com/scim/v2/ResourceTypes/User")
    assert user == {
        "schemas": [RESOURCE_TYPE_URN],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "User Account",
        "schema": USER_URN,
        "schemaExtensions": [{"schema": ENTERPRISE_USER_URN, "required": False}],
        "meta": {"resourceType": "ResourceType", "location": "https://example.com/scim/v2/ResourceTypes/User"},
    }
    group = RESOURCE_TYPES["Group"].to_representation("/ResourceTypes/Group")
    assert group == {
        "schemas": [RESOURCE_TYPE_URN],
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "description": "Group",
        "schema": GROUP_URN,
        "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/Group"},
    }
    assert json.loads(json.dumps([user, group])) == [user, group]


def test_all_schemas_and_get_schema() -> None:
    assert ALL_SCHEMAS == {USER_URN: USER_SCHEMA, GROUP_URN: GROUP_SCHEMA, ENTERPRISE_USER_URN: ENTERPRISE_USER_SCHEMA}
    assert all(urn == schema.id for urn, schema in ALL_SCHEMAS.items())
    assert get_schema(USER_URN.upper()) is USER_SCHEMA
    assert get_schema("urn:ietf:params:scim:schemas:extension:ENTERPRISE:2.0:user") is ENTERPRISE_USER_SCHEMA
    assert get_schema(SCHEMA_URN) is None
    assert get_schema("") is None


def test_urn_constants() -> None:
    assert USER_URN == "urn:ietf:params:scim:schemas:core:2.0:User"
    assert GROUP_URN == "urn:ietf:params:scim:schemas:core:2.0:Group"
    assert ENTERPRISE_USER_URN == "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    assert SERVICE_PROVIDER_CONFIG_URN == "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
    assert RESOURCE_TYPE_URN == "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
    assert SCHEMA_URN == "urn:ietf:params:scim:schemas:core:2.0:Schema"
    assert LIST_RESPONSE_URN == "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    assert SEARCH_REQUEST_URN == "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
    assert PATCH_OP_URN == "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    assert BULK_REQUEST_URN == "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
    assert BULK_RESPONSE_URN == "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
    assert ERROR_URN == "urn:ietf:params:scim:api:messages:2.0:Error"


# --------------------------------------------------------------------------------------------------
# Lookups and find_attribute (RFC 7643 §2.1, RFC 7644 §3.10)
# --------------------------------------------------------------------------------------------------


def test_lookups_are_case_insensitive() -> None:
    assert USER_SCHEMA.attribute("USERNAME") is USER_SCHEMA.attribute("userName")
    assert USER_SCHEMA.attribute("username").name == "userName"
    assert USER_SCHEMA.attribute("emails").sub_attribute("VALUE").name == "value"
    assert GROUP_SCHEMA.attribute("members").sub_attribute("$REF").name == "$ref"
    assert USER_SCHEMA.attribute("nope") is None
    assert USER_SCHEMA.attribute("emails").sub_attribute("nope") is None
    assert USER_SCHEMA.attribute("active").sub_attribute("value") is None


@pytest.mark.parametrize(
    ("urn", "name", "schema", "attribute"),
    [
        (None, "userName", USER_SCHEMA, "userName"),
        (None, "USERNAME", USER_SCHEMA, "userName"),
        (None, "emails", USER_SCHEMA, "emails"),
        (None, "id", None, "id"),
        (None, "ID", None, "id"),
        (None, "externalid", None, "externalId"),
        (None, "Meta", None, "meta"),
        (None, "employeeNumber", ENTERPRISE_USER_SCHEMA, "employeeNumber"),
        (USER_URN, "userName", USER_SCHEMA, "userName"),
        (USER_URN.upper(), "name", USER_SCHEMA, "name"),
        (USER_URN.lower(), "id", None, "id"),
        (ENTERPRISE_USER_URN, "manager", ENTERPRISE_USER_SCHEMA, "manager"),
        (
            "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER",
            "EMPLOYEENUMBER",
            ENTERPRISE_USER_SCHEMA,
            "employeeNumber",
        ),
    ],
)
def test_find_attribute_resolves(urn: str | None, name: str, schema: Schema | None, attribute: str) -> None:
    found = find_attribute(USER_SCHEMA, EXTENSIONS, urn, name)
    assert found is not None
    assert found[0] is schema
    assert found[1].name == attribute


@pytest.mark.parametrize(
    ("urn", "name"),
    [
        (None, "nope"),
        (None, "emails.value"),
        (None, ""),
        (USER_URN, "employeeNumber"),
        (USER_URN, "nope"),
        (ENTERPRISE_USER_URN, "userName"),
        (ENTERPRISE_USER_URN, "id"),
        (GROUP_URN, "displayName"),
        ("urn:ietf:params:scim:schemas:extension:acme:2.0:User", "userName"),
        (SCHEMA_URN, "attributes"),
        ("", "userName"),
    ],
)
def test_find_attribute_refuses_unknown(urn: str | None, name: str) -> None:
    assert find_attribute(USER_SCHEMA, EXTENSIONS, urn, name) is None


def test_find_attribute_for_groups() -> None:
    group = RESOURCE_TYPES["Group"]
    assert find_attribute(group.schema, group.extension_schemas, None, "DISPLAYNAME") == (
        GROUP_SCHEMA,
        GROUP_SCHEMA.attribute("displayName"),
    )
    assert find_attribute(group.schema, group.extension_schemas, GROUP_URN, "members")[0] is GROUP_SCHEMA
    assert find_attribute(group.schema, group.extension_schemas, None, "meta")[0] is None
    assert find_attribute(group.schema, group.extension_schemas, None, "userName") is None
    assert find_attribute(group.schema, group.extension_schemas, None, "employeeNumber") is None
    assert find_attribute(group.schema, group.extension_schemas, ENTERPRISE_USER_URN, "manager") is None


def test_find_attribute_prefers_common_then_core_then_extensions() -> None:
    shadow = Schema(
        id="urn:example:ext",
        name="Shadow",
        description="",
        attributes=(Attribute(name="userName", type="string"), Attribute(name="id", type="string")),
    )
    assert find_attribute(USER_SCHEMA, (shadow,), None, "username")[0] is USER_SCHEMA
    assert find_attribute(USER_SCHEMA, (shadow,), None, "id")[0] is None
    assert find_attribute(USER_SCHEMA, (shadow,), "urn:example:EXT", "id")[0] is shadow
