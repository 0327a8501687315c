"""Tests for the SCIM filter and sortBy compiler (RFC 7644 §3.4.2.2, §3.4.2.3).

Every expectation holds on SQLite and on PostgreSQL (run with DATABASE_URL=postgres://...): no test
branches on the database vendor.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db.models import F

from realms.models import RealmGroup, RealmUser
from scim.filters import And, AttrPath, Compare, Not, Or, ValuePath, parse_attr_path, parse_filter
from scim.filters.compiler import FilterCompileError, compile_filter, compile_sort
from tests.factories import (
    RealmEmailFactory,
    RealmFactory,
    RealmGroupFactory,
    RealmGroupMembershipFactory,
    RealmUserFactory,
)

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_CORE = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CUSTOM = "urn:okta:custom:1.0:User"

A = "alice@example.com"
B = "Bob@Example.org"
C = "carol"
ALL = {A, B, C}
NONE: set[str] = set()


def users(realm, text: str) -> set[str]:
    q = compile_filter(parse_filter(text), "User")
    return set(RealmUser.objects.filter(realm=realm).filter(q).values_list("username", flat=True))


def groups(realm, text: str) -> set[str]:
    q = compile_filter(parse_filter(text), "Group")
    return set(RealmGroup.objects.filter(realm=realm).filter(q).values_list("display_name", flat=True))


def compile_error(text: str, resource_type: str = "User") -> str:
    with pytest.raises(FilterCompileError) as excinfo:
        compile_filter(parse_filter(text), resource_type)  # type: ignore[arg-type]
    return str(excinfo.value)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture
def realm(db):
    return RealmFactory()


@pytest.fixture
def other_realm(db):
    return RealmFactory()


@pytest.fixture
def people(realm, other_realm):
    """Three users with every kind of attribute; a look-alike in another realm must never leak in."""
    alice = RealmUserFactory(
        realm=realm,
        username=A,
        external_id="Ext-A",
        active=True,
        display_name="Alice Liddell",
        given_name="Alice",
        family_name="Liddell",
        attributes={
            "userName": A,
            "name": {
                "givenName": "Alice",
                "familyName": "Liddell",
                "middleName": "Pleasance",
                "formatted": "Alice P. Liddell",
            },
            "displayName": "Alice Liddell",
            "nickName": "Al",
            "title": "Engineer",
            "userType": "Employee",
            "favoriteColor": "Blue",
            "emails": [
                {"value": A, "type": "work", "primary": True, "display": "Alice at work"},
                {"value": "alice@home.org", "type": "home"},
            ],
            "phoneNumbers": [
                {"value": "+1 555 0100", "type": "mobile", "primary": True},
                {"value": "+33 1 23 45", "type": "work"},
            ],
            "addresses": [{"locality": "Paris", "country": "FR", "type": "work", "primary": True}],
            ENTERPRISE: {
                "department": "R&D",
                "employeeNumber": "1001",
                "manager": {"value": "boss-1", "displayName": "The Boss"},
            },
            CUSTOM: {"costCenter": "Blue", "level": 7, "score": 9.5, "vip": True, "tags": ["alpha", "beta"]},
        },
    )
    RealmEmailFactory(user=alice, value=A, type="work", primary=True)
    RealmEmailFactory(user=alice, value="alice@home.org", type="home", primary=False)
    bob = RealmUserFactory(
        realm=realm,
        username=B,
        external_id="ext-b",
        active=False,
        display_name="",
        given_name="Bob",
        family_name="Builder",
        attributes={
            "userName": B,
            "name": {"givenName": "Bob", "familyName": "Builder"},
            "title": "Engineering Manager",
            "userType": "Contractor",
            "emails": [{"value": "bob@example.org", "type": "work", "primary": True}],
            "phoneNumbers": [{"value": "+44 20 7946", "type": "work"}],
            "addresses": [{"locality": "London", "country": "GB", "type": "home"}],
            ENTERPRISE: {"department": "Sales", "employeeNumber": "1002"},
            # The IdP spelled the custom URN and key differently: lookups are case-insensitive.
            "urn:okta:custom:1.0:user": {"CostCenter": "red", "level": 3, "vip": False},
        },
    )
    RealmEmailFactory(user=bob, value="bob@example.org", type="work", primary=True)
    carol = RealmUserFactory(
        realm=realm,
        username=C,
        external_id=None,
        active=True,
        display_name="Carol",
        given_name="",
        family_name="",
        attributes={"userName": C, "title": "", "phoneNumbers": []},
    )
    RealmUser.objects.filter(pk=alice.pk).update(created_at=utc(2011, 5, 13, 4, 42, 34, 123456))
    RealmUser.objects.filter(pk=bob.pk).update(created_at=utc(2011, 5, 13, 4, 42, 35))
    RealmUser.objects.filter(pk=carol.pk).update(created_at=utc(2020, 1, 1))

    # Another realm with users that would match most filters.
    twin = RealmUserFactory(
        realm=other_realm,
        username=A,
        external_id="Ext-A",
        attributes={
            "title": "Engineer",
            "phoneNumbers": [{"value": "+1 555 0100", "type": "mobile"}],
            CUSTOM: {"level": 7},
        },
    )
    RealmEmailFactory(user=twin, value="zed@example.com", type="work")
    return SimpleNamespace(alice=alice, bob=bob, carol=carol, twin=twin)


@pytest.fixture
def teams(realm, other_realm, people):
    """Engineering (alice, bob), Ops (bob), Nobody (empty), and a foreign group alice is wrongly linked to."""
    eng = RealmGroupFactory(realm=realm, display_name="Engineering", external_id="G-1")
    ops = RealmGroupFactory(realm=realm, display_name="Ops", external_id="g-2")
    nobody = RealmGroupFactory(realm=realm, display_name="Nobody")
    RealmGroupMembershipFactory(group=eng, user=people.alice)
    RealmGroupMembershipFactory(group=eng, user=people.bob)
    RealmGroupMembershipFactory(group=ops, user=people.bob)
    # Inconsistent cross-realm rows: a realm-scoped filter must not see them.
    foreign = RealmGroupFactory(realm=other_realm, display_name="Foreign")
    RealmGroupMembershipFactory(group=foreign, user=people.alice)
    RealmGroupMembershipFactory(group=foreign, user=people.twin)
    RealmGroupMembershipFactory(group=eng, user=people.twin)
    return SimpleNamespace(eng=eng, ops=ops, nobody=nobody, foreign=foreign)


# --------------------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------------------

COLUMN_CASES = [
    # userName: column, caseExact false
    ('userName eq "ALICE@example.com"', {A}),
    ('userName eq "bob@example.org"', {B}),
    ('userName ne "Carol"', {A, B}),
    ('userName co "EXAMPLE"', {A, B}),
    ('userName co ""', ALL),
    ('userName sw "b"', {B}),
    ('userName sw "example"', NONE),
    ('userName ew ".ORG"', {B}),
    ('userName ew "carol"', {C}),
    ('userName gt "b"', {B, C}),
    ('userName ge "BOB@example.org"', {B, C}),
    ('userName lt "bob"', {A}),
    ('userName le "carol"', ALL),
    ("userName pr", ALL),
    ("userName eq null", NONE),
    ("userName ne null", ALL),
    # externalId: column, caseExact true, nullable
    ('externalId eq "Ext-A"', {A}),
    ('externalId eq "ext-a"', NONE),
    ('externalId ne "Ext-A"', {B, C}),
    ('externalId co "xt"', {A, B}),
    ('externalId co "Ext"', {A}),
    ('externalId co "EXT"', NONE),
    ('externalId sw "ext"', {B}),
    ('externalId ew "-A"', {A}),
    ('externalId ew "-a"', NONE),
    ('externalId gt "F"', {B}),
    ('externalId ge "Ext-A"', {A, B}),
    ('externalId lt "e"', {A}),
    ('externalId le "ext-b"', {A, B}),
    ("externalId pr", {A, B}),
    ("externalId eq null", {C}),
    ('externalId co ""', {A, B}),
    # displayName: column, blank means absent
    ('displayName eq "carol"', {C}),
    ('displayName co "LIDDELL"', {A}),
    ("displayName pr", {A, C}),
    ("displayName eq null", {B}),
    ('displayName ne "Carol"', {A, B}),
    ('displayName lt "b"', {A}),
    ('displayName eq ""', {B}),
    ('displayName ne ""', {A, C}),
    # name.givenName / name.familyName: columns
    ('name.givenName sw "AL"', {A}),
    ('name.familyName eq "builder"', {B}),
    ("name.givenName pr", {A, B}),
    ('name.familyName ew "DELL"', {A}),
    # active: boolean column, bare booleans and the strings Entra ID sometimes sends
    ("active eq true", {A, C}),
    ("active eq false", {B}),
    ('active eq "TRUE"', {A, C}),
    ('active eq "false"', {B}),
    ("active ne true", {B}),
    ("active ne false", {A, C}),
    ("active pr", ALL),
    ("active eq null", NONE),
    # meta.created: dateTime column; a value covers the interval of its precision
    ('meta.created eq "2011-05-13T04:42:34Z"', {A}),
    ('meta.created eq "2011-05-13T04:42:34.123Z"', {A}),
    ('meta.created eq "2011-05-13T04:42:34.124Z"', NONE),
    ('meta.created eq "2011-05-13T04:42:34.123456789Z"', {A}),
    ('meta.created eq "2011-05-13T06:42:34+02:00"', {A}),
    ('meta.created eq "2011-05-13T04:42:34"', {A}),
    ('meta.created ne "2011-05-13T04:42:34Z"', {B, C}),
    ('meta.created gt "2011-05-13T04:42:34Z"', {B, C}),
    ('meta.created ge "2011-05-13T04:42:34Z"', ALL),
    ('meta.created lt "2011-05-13T04:42:35Z"', {A}),
    ('meta.created le "2011-05-13T04:42:35Z"', {A, B}),
    ('meta.created gt "2011-05-13T04:42:34.123456Z"', {B, C}),
    ('meta.created ge "2011-05-13t04:42:34.123456z"', ALL),
    ('meta.created lt "9999-12-31T23:59:59Z"', ALL),
    ('meta.created gt "9999-12-31T23:59:59Z"', NONE),
    ("meta.created pr", ALL),
    ('meta.lastModified gt "2000-01-01T00:00:00Z"', ALL),
    ('meta.lastModified lt "2000-01-01T00:00:00Z"', NONE),
    # meta.resourceType: a constant, caseExact
    ('meta.resourceType eq "User"', ALL),
    ('meta.resourceType eq "user"', NONE),
    ('meta.resourceType ne "Group"', ALL),
    ('meta.resourceType sw "Us"', ALL),
    ("meta.resourceType pr", ALL),
    ("meta pr", ALL),
    # id values that are not UUIDs never match
    ('id eq "not-a-uuid"', NONE),
    ('id ne "not-a-uuid"', ALL),
    ("id pr", ALL),
    ("id eq null", NONE),
]


@pytest.mark.parametrize(("text", "expected"), COLUMN_CASES)
def test_columns(realm, people, text, expected):
    assert users(realm, text) == expected


def test_id(realm, people):
    alice_id = str(people.alice.pk)
    assert users(realm, f'id eq "{alice_id}"') == {A}
    assert users(realm, f'id eq "{alice_id.upper()}"') == {A}
    assert users(realm, f'id ne "{alice_id}"') == {B, C}
    assert users(realm, f'{CORE}:id eq "{alice_id}"') == {A}
    assert users(realm, f'id eq "{people.twin.pk}"') == NONE  # the caller's realm scope holds


# --------------------------------------------------------------------------------------------------
# JSON attributes
# --------------------------------------------------------------------------------------------------

JSON_CASES = [
    # core string attributes kept in the JSON document (caseExact false)
    ('title eq "engineer"', {A}),
    ('title ne "engineer"', {B, C}),
    ('title co "MANAGER"', {B}),
    ('title co ""', {A, B}),
    ('title gt ""', {A, B}),
    ('title lt ""', NONE),
    ('title sw "engineer"', {A, B}),
    ('title ew "EER"', {A}),
    ('title gt "engineer"', {B}),
    ('title ge "engineer"', {A, B}),
    ('title lt "engineering"', {A}),
    ('title le "ENGINEER"', {A}),
    ("title pr", {A, B}),
    ("not (title pr)", {C}),
    ("title eq null", {C}),
    ("title ne null", {A, B}),
    ('title eq ""', {C}),
    ('nickName eq "AL"', {A}),
    ('userType eq "contractor"', {B}),
    ('NICKNAME eq "al"', {A}),
    ('name.middleName eq "pleasance"', {A}),
    ('name.formatted co "p. LIDDELL"', {A}),
    ("name.honorificPrefix pr", NONE),
    ("name pr", {A, B}),
    # unknown attributes: case-insensitive JSON keys, matching nothing when absent
    ('favoritecolor eq "BLUE"', {A}),
    ('FavoriteColor ne "blue"', {B, C}),
    ('shoeSize eq "42"', NONE),
    ('shoeSize ne "42"', ALL),
    ("shoeSize pr", NONE),
    ("shoeSize.left eq 1", NONE),
    ('name.nickname eq "x"', NONE),
    # enterprise extension: full URN, unqualified, any case
    (f'{ENTERPRISE}:department eq "r&d"', {A}),
    ('department eq "SALES"', {B}),
    (f'{ENTERPRISE.upper()}:DEPARTMENT eq "R&D"', {A}),
    ('employeeNumber gt "1001"', {B}),
    ("department pr", {A, B}),
    ('department ne "sales"', {A, C}),
    ('manager.value eq "boss-1"', {A}),
    ('manager eq "boss-1"', {A}),
    ('manager.displayName co "BOSS"', {A}),
    ("manager pr", {A}),
    ("not (manager pr)", {B, C}),
    (f'{ENTERPRISE}:costCenter eq "x"', NONE),
    (f"{ENTERPRISE}:unknownThing pr", NONE),
    # custom extension: strings, numbers, booleans, arrays
    (f'{CUSTOM}:costCenter eq "BLUE"', {A}),
    (f'{CUSTOM}:costcenter eq "Red"', {B}),
    (f"{CUSTOM.lower()}:COSTCENTER pr", {A, B}),
    (f"{CUSTOM}:level eq 7", {A}),
    (f"{CUSTOM}:level eq 7.0", {A}),
    (f"{CUSTOM}:level ne 7", {B, C}),
    (f"{CUSTOM}:level gt 5", {A}),
    (f"{CUSTOM}:level gt 6.5", {A}),
    (f"{CUSTOM}:level ge 3", {A, B}),
    (f"{CUSTOM}:level lt 7", {B}),
    (f"{CUSTOM}:level le 7", {A, B}),
    (f"{CUSTOM}:level lt -1e400", NONE),
    (f"{CUSTOM}:level lt 99999999999999999999999", {A, B}),
    (f"{CUSTOM}:level lt {'9' * 999}", {A, B}),  # beyond a double (SQLite): compared as an infinity
    (f"{CUSTOM}:level gt -{'9' * 999}", {A, B}),
    (f"{CUSTOM}:level lt 9e999", {A, B}),
    (f"{CUSTOM}:level gt 1e-1000", {A, B}),
    (f'{CUSTOM}:level eq "7"', NONE),
    (f"{CUSTOM}:score gt 9", {A}),
    (f"{CUSTOM}:score eq 9.5", {A}),
    (f"{CUSTOM}:score lt 9.51", {A}),
    (f"{CUSTOM}:vip eq true", {A}),
    (f"{CUSTOM}:vip eq false", {B}),
    (f"{CUSTOM}:vip ne true", {B, C}),
    (f'{CUSTOM}:vip eq "true"', NONE),
    (f"{CUSTOM}:vip pr", {A, B}),
    (f'{CUSTOM}:tags eq "ALPHA"', {A}),
    (f'{CUSTOM}:tags co "et"', {A}),
    (f'{CUSTOM}:tags ne "alpha"', {B, C}),
    (f"{CUSTOM}:tags pr", {A}),
    (f'{CUSTOM}:missing eq "x"', NONE),
]


@pytest.mark.parametrize(("text", "expected"), JSON_CASES)
def test_json_attributes(realm, people, text, expected):
    assert users(realm, text) == expected


def test_json_values_nested_in_arrays_of_objects(realm):
    RealmUserFactory(
        realm=realm,
        username="dora",
        attributes={CUSTOM: {"badges": [{"value": "gold", "level": 3}, {"value": "silver", "level": 1}]}},
    )
    assert users(realm, f'{CUSTOM}:badges eq "GOLD"') == {"dora"}
    assert users(realm, f"{CUSTOM}:badges.level gt 2") == {"dora"}
    assert users(realm, f"{CUSTOM}:badges.level gt 3") == NONE
    assert users(realm, f'{CUSTOM}:badges[value eq "silver" and level eq 1]') == {"dora"}
    assert users(realm, f'{CUSTOM}:badges[value eq "silver" and level eq 3]') == NONE


# --------------------------------------------------------------------------------------------------
# Multi-valued attributes
# --------------------------------------------------------------------------------------------------

MULTI_VALUED_CASES = [
    # emails, through the RealmEmail rows
    ('emails eq "ALICE@home.org"', {A}),
    ('emails.value co "example"', {A, B}),
    ('emails.value sw "BOB"', {B}),
    ('emails.value ew ".org"', {A, B}),
    ('emails.value gt "b"', {B}),
    ('emails.type eq "HOME"', {A}),
    ("emails.primary eq true", {A, B}),
    ('emails.primary eq "True"', {A, B}),
    ("emails.primary eq false", {A}),
    ('emails.value ne "bob@example.org"', {A, C}),
    ("emails pr", {A, B}),
    ("emails.type pr", {A, B}),
    ("not (emails pr)", {C}),
    ("emails eq null", {C}),
    ('emails[type eq "work" and value co "@example.com"]', {A}),
    ('emails[type eq "home" and value co "example.com"]', NONE),
    ('emails[not (type eq "work")]', {A}),
    ('emails[value sw "bob" or type eq "home"]', {A, B}),
    ("emails[primary eq true and type eq null]", NONE),
    # emails sub-attributes RealmEmail does not keep come from the JSON document
    ('emails.display co "WORK"', {A}),
    ('emails[display pr and type eq "work"]', {A}),
    ('emails[display pr and type eq "home"]', NONE),
    # multi-valued complex attributes in the JSON document
    ('phoneNumbers co "555"', {A}),
    ('phoneNumbers eq "+44 20 7946"', {B}),
    ('phoneNumbers.value sw "+44"', {B}),
    ('phoneNumbers.type eq "MOBILE"', {A}),
    ('phoneNumbers.type ne "work"', {C}),
    ("phoneNumbers.primary eq true", {A}),
    ('phoneNumbers.primary eq "false"', NONE),
    ("phoneNumbers pr", {A, B}),
    ("not (phoneNumbers pr)", {C}),
    ('phoneNumbers[type eq "mobile" and value sw "+1"]', {A}),
    ('phoneNumbers[type eq "work" and value sw "+1"]', NONE),
    ('phoneNumbers[type eq "work"]', {A, B}),
    ('phoneNumbers[not (type eq "mobile")]', {A, B}),
    ('phoneNumbers[TYPE eq "mobile" AND Value co "0100"]', {A}),
    ('addresses[locality eq "paris"]', {A}),
    ('addresses.country eq "GB"', {B}),
    ('addresses[type eq "home" and locality eq "Paris"]', NONE),
    ("addresses[primary eq true]", {A}),
    ('addresses eq "Paris"', NONE),  # addresses have no "value"
    ("ims pr", NONE),
    ("not (ims pr)", ALL),
    ('roles[value eq "admin"]', NONE),
    ('x509Certificates.value eq "MIIC"', NONE),
]


@pytest.mark.parametrize(("text", "expected"), MULTI_VALUED_CASES)
def test_multi_valued_attributes(realm, people, text, expected):
    assert users(realm, text) == expected


def test_groups_of_users(realm, people, teams):
    eng, ops, foreign = teams.eng.pk, teams.ops.pk, teams.foreign.pk
    assert users(realm, f'groups eq "{eng}"') == {A, B}
    assert users(realm, f'groups.value eq "{ops}"') == {B}
    assert users(realm, f'groups.value eq "{str(ops).upper()}"') == {B}
    assert users(realm, f'groups ne "{eng}"') == {C}
    assert users(realm, 'groups.display eq "engineering"') == {A, B}
    assert users(realm, 'groups.display sw "OP"') == {B}
    assert users(realm, 'groups.display gt "f"') == {B}
    assert users(realm, f'groups[display eq "Ops" and value eq "{ops}"]') == {B}
    assert users(realm, f'groups[display eq "Ops" and value eq "{eng}"]') == NONE
    assert users(realm, "groups pr") == {A, B}
    assert users(realm, "not (groups pr)") == {C}
    assert users(realm, 'groups.type eq "direct"') == {A, B}
    assert users(realm, 'groups.type eq "indirect"') == NONE
    assert users(realm, 'groups.value eq "not-a-uuid"') == NONE
    # A membership in another realm's group is never seen.
    assert users(realm, f'groups.value eq "{foreign}"') == NONE
    assert users(realm, 'groups.display eq "Foreign"') == NONE


def test_groups(realm, people, teams):
    alice, bob, twin = people.alice.pk, people.bob.pk, people.twin.pk
    assert groups(realm, 'displayName eq "ENGINEERING"') == {"Engineering"}
    assert groups(realm, 'displayName co "o"') == {"Ops", "Nobody"}
    assert groups(realm, 'displayName sw "n"') == {"Nobody"}
    assert groups(realm, 'displayName ew "S"') == {"Ops"}
    assert groups(realm, 'displayName gt "nobody"') == {"Ops"}
    assert groups(realm, 'displayName ne "ops"') == {"Engineering", "Nobody"}
    assert groups(realm, 'externalId eq "G-1"') == {"Engineering"}
    assert groups(realm, 'externalId eq "g-1"') == NONE
    assert groups(realm, 'externalId sw "g"') == {"Ops"}
    assert groups(realm, "externalId pr") == {"Engineering", "Ops"}
    assert groups(realm, f'id eq "{teams.ops.pk}"') == {"Ops"}
    assert groups(realm, f'members eq "{alice}"') == {"Engineering"}
    assert groups(realm, f'members.value eq "{bob}"') == {"Engineering", "Ops"}
    assert groups(realm, f'members ne "{bob}"') == {"Nobody"}
    assert groups(realm, 'members.display eq "alice liddell"') == {"Engineering"}
    # bob has no displayName: members.display is his userName
    assert groups(realm, 'members.display eq "bob@example.org"') == {"Engineering", "Ops"}
    assert groups(realm, f'members[value eq "{alice}" and display co "ALICE"]') == {"Engineering"}
    assert groups(realm, f'members[value eq "{bob}" and display co "alice"]') == NONE
    assert groups(realm, 'members.type eq "User"') == {"Engineering", "Ops"}
    assert groups(realm, "members pr") == {"Engineering", "Ops"}
    assert groups(realm, "not (members pr)") == {"Nobody"}
    # twin (another realm) is linked to Engineering, but a filter never reaches across realms
    assert groups(realm, f'members eq "{twin}"') == NONE
    assert groups(realm, 'meta.resourceType eq "Group"') == {"Engineering", "Ops", "Nobody"}
    assert groups(realm, 'meta.resourceType eq "User"') == NONE
    assert groups(realm, f'schemas eq "{GROUP_CORE}"') == {"Engineering", "Ops", "Nobody"}
    assert groups(realm, f'schemas eq "{CORE}"') == NONE
    assert groups(realm, 'meta.created gt "2000-01-01T00:00:00Z"') == {"Engineering", "Ops", "Nobody"}
    assert groups(realm, f'{GROUP_CORE}:displayName eq "ops"') == {"Ops"}
    assert groups(realm, 'userName eq "x"') == NONE  # not a Group attribute: looked up in JSON


def test_group_json_attributes(realm):
    RealmGroupFactory(realm=realm, display_name="Tagged", attributes={"displayName": "Tagged", "labels": ["a", "b"]})
    RealmGroupFactory(realm=realm, display_name="Plain")
    assert groups(realm, 'labels eq "B"') == {"Tagged"}
    assert groups(realm, 'labels ne "b"') == {"Plain"}
    assert groups(realm, 'emails eq "x"') == NONE


# --------------------------------------------------------------------------------------------------
# schemas, logic, RFC examples
# --------------------------------------------------------------------------------------------------

OTHER_CASES = [
    (f'schemas eq "{CORE}"', ALL),
    (f'schemas eq "{CORE.upper()}"', ALL),
    (f'schemas eq "{ENTERPRISE}"', {A, B}),
    (f'schemas ne "{ENTERPRISE}"', {C}),
    (f'schemas eq "{CUSTOM}"', {A, B}),
    (f'schemas eq "{GROUP_CORE}"', NONE),
    ('schemas eq "urn:unknown:thing"', NONE),
    ('schemas eq "x\\"y"', NONE),
    ("schemas pr", ALL),
    # logic
    ('title pr and userName sw "a"', {A}),
    ('title eq "x" or userName eq "carol"', {C}),
    ('not (active eq true) or userName eq "carol"', {B, C}),
    ('(userName sw "a" or userName sw "b") and active eq true', {A}),
    ('userName sw "a" or userName sw "b" and active eq true', {A}),
    ('not (not (userName eq "carol"))', {C}),
    ("not (title pr and active eq true)", {B, C}),
    ('not (title eq "engineer" or department eq "sales")', {C}),
    ('userName EQ "carol" Or Title Pr', ALL),
    ('USERNAME sw "A" AND NOT (ACTIVE eq FALSE)', {A}),
    ('title pr and (emails[type eq "home"] or phoneNumbers[type eq "work" and value sw "+44"])', {A, B}),
]


@pytest.mark.parametrize(("text", "expected"), OTHER_CASES)
def test_schemas_and_logic(realm, people, text, expected):
    assert users(realm, text) == expected


def test_not_is_the_exact_complement(realm, people):
    filters = [text for text, _ in COLUMN_CASES + JSON_CASES + MULTI_VALUED_CASES + OTHER_CASES]
    for text in filters:
        assert users(realm, f"not ({text})") == ALL - users(realm, text), text


@pytest.fixture
def rfc_people(realm):
    """The users the RFC 7644 §3.4.2.2 examples are about."""
    bjensen = RealmUserFactory(
        realm=realm,
        username="bjensen",
        family_name="Jensen",
        attributes={"title": "Tour Guide", "userType": "Employee", ENTERPRISE: {"employeeNumber": "701984"}},
    )
    RealmEmailFactory(user=bjensen, value="bjensen@example.com", type="work")
    jomalley = RealmUserFactory(
        realm=realm, username="JOMalley", family_name="O'Malley", attributes={"userType": "Intern"}
    )
    RealmEmailFactory(user=jomalley, value="jo@example.org", type="home")
    jsmith = RealmUserFactory(
        realm=realm,
        username="jsmith",
        family_name="Smith",
        attributes={"userType": "Contractor", "ims": [{"type": "xmpp", "value": "jsmith@foo.com"}]},
    )
    RealmEmailFactory(user=jsmith, value="js@other.net", type="work")
    RealmUser.objects.filter(pk=bjensen.pk).update(updated_at=utc(2011, 5, 13, 4, 42, 34))
    RealmUser.objects.filter(pk=jomalley.pk).update(updated_at=utc(2012, 1, 1))
    RealmUser.objects.filter(pk=jsmith.pk).update(updated_at=utc(2010, 1, 1))


RFC_EXAMPLES = [
    ('userName eq "bjensen"', {"bjensen"}),
    ('name.familyName co "O\'Malley"', {"JOMalley"}),
    ('userName sw "J"', {"JOMalley", "jsmith"}),
    (f'{CORE}:userName sw "J"', {"JOMalley", "jsmith"}),
    ("title pr", {"bjensen"}),
    ('meta.lastModified gt "2011-05-13T04:42:34Z"', {"JOMalley"}),
    ('meta.lastModified ge "2011-05-13T04:42:34Z"', {"bjensen", "JOMalley"}),
    ('meta.lastModified lt "2011-05-13T04:42:34Z"', {"jsmith"}),
    ('meta.lastModified le "2011-05-13T04:42:34Z"', {"bjensen", "jsmith"}),
    ('title pr and userType eq "Employee"', {"bjensen"}),
    ('title pr or userType eq "Intern"', {"bjensen", "JOMalley"}),
    (f'schemas eq "{ENTERPRISE}"', {"bjensen"}),
    ('userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")', {"bjensen"}),
    ('userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")', {"jsmith"}),
    ('userType eq "Employee" and (emails.type eq "work")', {"bjensen"}),
    ('userType eq "Employee" and emails[type eq "work" and value co "@example.com"]', {"bjensen"}),
    (
        'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
        {"bjensen", "jsmith"},
    ),
]


@pytest.mark.parametrize(("text", "expected"), RFC_EXAMPLES)
def test_rfc_7644_examples(realm, rfc_people, text, expected):
    assert users(realm, text) == expected


# --------------------------------------------------------------------------------------------------
# Hostile values and realm isolation
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def odd_people(realm):
    names = ["x' OR '1'='1", "50%_off", "50Xoff", "back\\slash", 'quo"te', "Zoë", "Zoe", "日本語"]
    for name in names:
        RealmUserFactory(realm=realm, username=name, attributes={"title": f"{name} / 100% _sure_"})
    return set(names)


HOSTILE_CASES = [
    ("userName eq \"x' OR '1'='1\"", {"x' OR '1'='1"}),
    ('userName eq "\' OR 1=1 --"', NONE),
    ('userName co "\'"', {"x' OR '1'='1"}),
    ('userName co "%"', {"50%_off"}),
    ('userName co "_"', {"50%_off"}),
    ('userName sw "50%"', {"50%_off"}),
    ('userName sw "50_"', NONE),
    ('userName co "%_"', {"50%_off"}),
    ('userName ew "_off"', {"50%_off"}),
    ('userName eq "back\\\\slash"', {"back\\slash"}),
    ('userName co "\\\\"', {"back\\slash"}),
    ('userName sw "back\\\\"', {"back\\slash"}),
    ('userName eq "quo\\"te"', {'quo"te'}),
    ('userName co "\\""', {'quo"te'}),
    ('userName eq "Zoë"', {"Zoë"}),
    ('userName eq "Zo\\u00eb"', {"Zoë"}),
    ('userName co "ë"', {"Zoë"}),
    ('userName eq "zoe"', {"Zoe"}),
    ('userName eq "日本語"', {"日本語"}),
    ('userName sw "日"', {"日本語"}),
    ('title co "50%_off /"', {"50%_off"}),
    ('title co "back\\\\slash /"', {"back\\slash"}),
    ('title eq "quo\\"te / 100% _sure_"', {'quo"te'}),
    ('title sw "x\' or"', {"x' OR '1'='1"}),
    ('title ew "100%"', NONE),
    ('title co "0% _s"', None),  # every user
    ('externalId eq "\') OR 1=1 --"', NONE),
    (f'{CUSTOM}:x eq "\'; DROP TABLE realms_realmuser; --"', NONE),
    ('schemas eq "urn:x\'\\"]"', NONE),
]


@pytest.mark.parametrize(("text", "expected"), HOSTILE_CASES)
def test_hostile_values_match_only_literally(realm, odd_people, text, expected):
    assert users(realm, text) == (odd_people if expected is None else expected)
    assert RealmUser.objects.filter(realm=realm).count() == len(odd_people)


def test_hostile_names_are_rejected_even_when_built_without_the_parser(realm):
    for path in (
        AttrPath(None, 'ti"tle'),
        AttrPath(None, "title", "a'b"),
        AttrPath('urn:x:"', "a"),
        AttrPath("urn:x:\\", "a"),
        AttrPath(None, "title\x00"),
    ):
        with pytest.raises(FilterCompileError):
            compile_filter(Compare(path, "eq", "x"), "User")


def test_other_realms_never_match(realm, other_realm, people):
    assert users(realm, 'userName eq "alice@example.com"') == {A}
    assert users(other_realm, 'userName eq "alice@example.com"') == {A}
    assert users(realm, 'emails eq "zed@example.com"') == NONE
    assert users(other_realm, 'emails eq "zed@example.com"') == {A}
    assert users(other_realm, 'emails eq "alice@home.org"') == NONE
    assert users(other_realm, "title pr") == {A}
    assert users(other_realm, f"{CUSTOM}:level eq 7") == {A}
    assert users(other_realm, 'phoneNumbers[type eq "mobile"]') == {A}
    assert users(other_realm, f'{CUSTOM}:costCenter eq "blue"') == NONE


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------

ERROR_CASES = [
    ("active gt true", "the 'gt' operator cannot be used with the boolean attribute 'active'"),
    ("active co true", "the 'co' operator cannot be used with the boolean attribute 'active'"),
    ('active eq "yes"', "'active' is a boolean attribute: compare it with true or false, not \"yes\""),
    ("active eq 1", "'active' is a boolean attribute"),
    ('password eq "secret"', "'password' cannot be used to filter or sort: it is write-only"),
    ("password pr", "'password' cannot be used to filter or sort"),
    (f'{CORE}:password eq "x"', "cannot be used to filter or sort"),
    ('userName.foo eq "x"', "'userName' is a string attribute without sub-attributes"),
    ("active.value eq true", "'active' is a boolean attribute without sub-attributes"),
    ('department.name eq "x"', "'department' is a string attribute without sub-attributes"),
    ('schemas.value eq "x"', "'schemas' has no sub-attributes"),
    ('userName[value eq "x"]', "'userName' is not a multi-valued attribute"),
    ('name[givenName eq "x"]', "'name' is not a multi-valued attribute"),
    ('emails.value[type eq "work"]', "a value filter applies to a whole multi-valued attribute"),
    ('emails[emails.type eq "work"]', "inside 'emails[...]' name sub-attributes alone"),
    ('emails[urn:ab:cd:type eq "work"]', "inside 'emails[...]'"),
    ("userName eq 42", "'userName' is a string attribute: put the value in double quotes, as in 'userName eq \"42\"'"),
    ("title eq true", "'title' is a string attribute"),
    ("employeeNumber eq 1001", "'employeeNumber' is a string attribute"),
    ('meta.created eq "2011-13-45T00:00:00Z"', "is not a valid dateTime for 'meta.created'"),
    ('meta.created eq "yesterday"', "'meta.created' is a dateTime attribute"),
    ('meta.created eq "2011-05-13"', "'meta.created' is a dateTime attribute"),
    ('meta.lastModified gt "2011-05-13T04:42:34+25:00"', "is not a valid dateTime"),
    ('meta.created eq "2011-05-13T24:00:00Z"', "is not a valid dateTime"),
    ("meta.created gt 2011", "'meta.created' is a dateTime attribute"),
    ('meta.created co "2011"', "the 'co' operator cannot be used with the dateTime attribute 'meta.created'"),
    ("meta.created gt null", "the 'gt' operator cannot be used with null"),
    ('meta.location eq "x"', "filtering on 'meta.location' is not supported"),
    ('meta.foo eq "x"', "'meta' has no sub-attribute 'foo'"),
    ('meta eq "x"', "'meta' is a complex attribute"),
    ('name eq "Alice"', "'name' is a complex attribute: compare one of its sub-attributes"),
    ('id co "1"', "the 'co' operator cannot be used with the identifier attribute 'id'"),
    ('id gt "1"', "the 'gt' operator cannot be used with the identifier attribute 'id'"),
    ("id eq 5", "'id' is an identifier attribute: put the value in double quotes"),
    ('groups.$ref eq "x"', "filtering on 'groups.$ref' is not supported"),
    ('groups.foo eq "x"', "'groups' has no sub-attribute 'foo'"),
    ('groups co "x"', "the 'co' operator cannot be used with the identifier attribute 'groups'"),
    ('groups[foo eq "x"]', "'groups' has no sub-attribute 'foo'"),
    ('schemas co "urn"', "the 'co' operator cannot be used with 'schemas'"),
    ("schemas eq 1", "'schemas' holds schema URNs"),
    (f"{CUSTOM}:vip gt true", "the 'gt' operator cannot be used with a boolean value"),
    (f"{CUSTOM}:level co 5", "the 'co' operator cannot be used with a number"),
    ("title lt null", "the 'lt' operator cannot be used with null"),
    ("phoneNumbers.primary gt true", "the 'gt' operator cannot be used with the boolean attribute"),
    ('phoneNumbers.primary eq "maybe"', "'phoneNumbers.primary' is a boolean attribute"),
    (f'{GROUP_CORE}:displayName eq "x"', f"the schema '{GROUP_CORE}' does not apply to User resources"),
]


@pytest.mark.parametrize(("text", "message"), ERROR_CASES)
def test_errors(text, message):
    error = compile_error(text)
    assert message in error


GROUP_ERROR_CASES = [
    (f'{CORE}:userName eq "x"', f"the schema '{CORE}' does not apply to Group resources"),
    (f'{ENTERPRISE}:department eq "x"', f"the schema '{ENTERPRISE}' does not apply to Group resources"),
    ('members.$ref eq "x"', "filtering on 'members.$ref' is not supported"),
    ('members.value co "x"', "the 'co' operator cannot be used with the identifier attribute 'members.value'"),
    ('displayName.x eq "x"', "'displayName' is a string attribute without sub-attributes"),
    ('displayName[value eq "x"]', "'displayName' is not a multi-valued attribute"),
]


@pytest.mark.parametrize(("text", "message"), GROUP_ERROR_CASES)
def test_group_errors(text, message):
    assert message in compile_error(text, "Group")


def test_error_class():
    error = FilterCompileError("x")
    assert isinstance(error, ValueError)
    assert error.scim_type == "invalidFilter"
    with pytest.raises(ValueError, match="resource_type"):
        compile_filter(parse_filter("title pr"), "Device")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# Shape of the SQL
# --------------------------------------------------------------------------------------------------


def test_one_query_whatever_the_filter(realm, people, teams, django_assert_num_queries):
    text = (
        'emails[type eq "work" and value co "@example.com"] and phoneNumbers co "555" and '
        f'groups.display eq "engineering" and {CUSTOM}:tags eq "alpha" and not (title eq "x") and '
        f'userName eq "alice@example.com" and meta.created lt "2030-01-01T00:00:00Z"'
    )
    qs = RealmUser.objects.filter(realm=realm).filter(compile_filter(parse_filter(text), "User"))
    with django_assert_num_queries(1):
        result = list(qs)
    assert [user.username for user in result] == [A]


def test_no_like_and_lower_on_both_sides(realm, people):
    sql = str(
        RealmUser.objects.filter(compile_filter(parse_filter('externalId co "x" and title sw "y"'), "User")).query
    )
    assert "LIKE" not in sql.upper()
    sql = str(RealmUser.objects.filter(compile_filter(parse_filter('userName eq "x"'), "User")).query)
    assert 'LOWER("realms_realmuser"."username")' in sql
    assert sql.count("LOWER(") == 2


def test_long_and_deep_filters(realm, people):
    wide = " or ".join(f'userName eq "user{i}"' for i in range(150)) + ' or userName eq "carol"'
    assert users(realm, wide) == {C}
    deep = "not (" * 30 + 'userName eq "carol"' + ")" * 30
    assert users(realm, deep) == {C}
    # A degenerate, unbalanced tree built without the parser is compiled without recursion.
    expr = Compare(AttrPath(None, "userName"), "eq", "carol")
    for _ in range(3000):
        expr = And(Not(Not(expr)), Compare(AttrPath(None, "active"), "eq", True))  # type: ignore[assignment]
    assert compile_filter(Or(expr, expr), "User") is not None
    assert compile_filter(ValuePath(AttrPath(None, "emails"), parse_filter('type eq "work"')), "User") is not None


# --------------------------------------------------------------------------------------------------
# sortBy (RFC 7644 §3.4.2.3)
# --------------------------------------------------------------------------------------------------


def sorted_names(realm, attr: str, *, descending: bool = False, resource_type: str = "User") -> list[str]:
    ordering = compile_sort(parse_attr_path(attr), resource_type, descending=descending)  # type: ignore[arg-type]
    if resource_type == "Group":
        return list(RealmGroup.objects.filter(realm=realm).order_by(*ordering).values_list("display_name", flat=True))
    return list(RealmUser.objects.filter(realm=realm).order_by(*ordering).values_list("username", flat=True))


SORT_CASES = [
    ("userName", [A, B, C]),
    ("USERNAME", [A, B, C]),
    (f"{CORE}:userName", [A, B, C]),
    ("externalId", [A, B, C]),
    ("displayName", [A, C, B]),  # bob has none: last
    ("name.givenName", [A, B, C]),
    ("name.familyName", [B, A, C]),
    ("title", [A, B, C]),  # carol's "" counts as no value
    ("department", [A, B, C]),
    (f"{ENTERPRISE}:employeeNumber", [A, B, C]),
    ("manager", [A, B, C]),
    ("emails", [A, B, C]),
    ("emails.value", [A, B, C]),
    ("meta.created", [A, B, C]),
    ("meta.lastModified", None),
    ("meta.resourceType", [A, B, C]),  # a constant: only the tiebreak (created_at) orders
    ("active", [B, A, C]),
    (f"{CUSTOM}:costCenter", [A, B, C]),
    ("favoriteColor", [A, B, C]),
]


@pytest.mark.parametrize(("attr", "expected"), SORT_CASES)
def test_sort(realm, people, attr, expected):
    ascending = sorted_names(realm, attr)
    if expected is not None:
        assert ascending == expected
    assert len(ascending) == 3


DESCENDING_CASES = [
    ("userName", [C, B, A]),
    ("displayName", [C, A, B]),  # no value: still last
    ("title", [B, A, C]),
    ("emails", [B, A, C]),
    ("department", [B, A, C]),
    ("meta.created", [C, B, A]),
]


@pytest.mark.parametrize(("attr", "expected"), DESCENDING_CASES)
def test_sort_descending(realm, people, attr, expected):
    assert sorted_names(realm, attr, descending=True) == expected


def test_sort_case_exact_and_code_point_order(realm):
    for username, external_id, title in [("x", "b", "a_b"), ("y", "A", "A-B"), ("z", "a", "ab")]:
        RealmUserFactory(realm=realm, username=username, external_id=external_id, attributes={"title": title})
    assert sorted_names(realm, "externalId") == ["y", "z", "x"]  # caseExact: "A" < "a" < "b"
    assert sorted_names(realm, "title") == ["y", "x", "z"]  # "a-b" < "a_b" < "ab" by code point


def test_sort_tiebreak_is_creation_then_id(realm):
    first = RealmUserFactory(realm=realm, username="m1", attributes={"title": "Same"})
    second = RealmUserFactory(realm=realm, username="m2", attributes={"title": "same"})
    RealmUser.objects.filter(pk=first.pk).update(created_at=utc(2020, 1, 2))
    RealmUser.objects.filter(pk=second.pk).update(created_at=utc(2020, 1, 1))
    assert sorted_names(realm, "title") == ["m2", "m1"]
    ordering = compile_sort(parse_attr_path("title"), "User", descending=True)
    assert ordering[-2:] == [F("created_at").asc(), F("id").asc()]


def test_sort_groups(realm, people, teams):
    assert sorted_names(realm, "displayName", resource_type="Group") == ["Engineering", "Nobody", "Ops"]
    assert sorted_names(realm, "externalId", descending=True, resource_type="Group") == [
        "Ops",
        "Engineering",
        "Nobody",
    ]


SORT_ERROR_CASES = [
    ("phoneNumbers", "sorting by the multi-valued attribute 'phoneNumbers' is not supported"),
    ("emails.type", "sorting by the multi-valued attribute 'emails.type' is not supported"),
    ("groups", "sorting by the multi-valued attribute 'groups' is not supported"),
    ("name", "cannot sort by the complex attribute 'name'"),
    ("meta", "cannot sort by the complex attribute 'meta'"),
    ("password", "'password' cannot be used to filter or sort"),
    ("schemas", "sorting by 'schemas' is not supported"),
    (ENTERPRISE, "is a schema URN"),
    ("userName.x", "without sub-attributes"),
    (f"{CUSTOM}:tags.x.y", None),  # a syntax error, raised by the parser
]


@pytest.mark.parametrize(("attr", "message"), SORT_ERROR_CASES)
def test_sort_errors(attr, message):
    if message is None:
        with pytest.raises(ValueError):
            compile_sort(parse_attr_path(attr), "User")
        return
    with pytest.raises(FilterCompileError) as excinfo:
        compile_sort(parse_attr_path(attr), "User")
    assert message in str(excinfo.value)


def test_sort_group_errors():
    with pytest.raises(FilterCompileError, match="sorting by the multi-valued attribute 'members'"):
        compile_sort(parse_attr_path("members"), "Group")
