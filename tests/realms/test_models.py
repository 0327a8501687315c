"""Database constraints of realm models: enforced by the database itself, on SQLite and PostgreSQL."""

import pytest
from django.db import IntegrityError, transaction

from realms.models import RealmGroupMembership, RealmUser

from ..factories import RealmFactory, RealmGroupFactory, RealmGroupMembershipFactory, RealmUserFactory


def test_username_unique_per_realm_case_insensitively(db):
    realm = RealmFactory()
    RealmUserFactory(realm=realm, username="Jane.Doe@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        RealmUser.objects.create(realm=realm, username="jane.doe@EXAMPLE.com")


def test_same_username_allowed_in_another_realm(db):
    RealmUserFactory(realm=RealmFactory(), username="jane@example.com")
    RealmUserFactory(realm=RealmFactory(), username="jane@example.com")
    assert RealmUser.objects.filter(username="jane@example.com").count() == 2


def test_external_id_unique_per_realm_when_present(db):
    realm = RealmFactory()
    RealmUserFactory(realm=realm, external_id="00u1")
    RealmUserFactory(realm=realm, external_id=None)
    RealmUserFactory(realm=realm, external_id=None)  # several users without externalId
    RealmUserFactory(realm=RealmFactory(), external_id="00u1")  # same externalId in another realm
    with pytest.raises(IntegrityError), transaction.atomic():
        RealmUserFactory(realm=realm, external_id="00u1")


def test_group_display_name_unique_per_realm(db):
    realm = RealmFactory()
    RealmGroupFactory(realm=realm, display_name="Engineering")
    RealmGroupFactory(realm=RealmFactory(), display_name="Engineering")
    with pytest.raises(IntegrityError), transaction.atomic():
        RealmGroupFactory(realm=realm, display_name="engineering")


def test_group_external_id_unique_per_realm_when_present(db):
    realm = RealmFactory()
    RealmGroupFactory(realm=realm, external_id="00g1")
    RealmGroupFactory(realm=realm, external_id=None)
    RealmGroupFactory(realm=realm, external_id=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        RealmGroupFactory(realm=realm, external_id="00g1")


def test_membership_unique_per_user_and_group(db):
    membership = RealmGroupMembershipFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        RealmGroupMembership.objects.create(group=membership.group, user=membership.user)
    assert list(membership.group.members.all()) == [membership.user]
    assert list(membership.user.groups.all()) == [membership.group]


def test_attributes_keep_everything_the_idp_sent(db):
    sent = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:okta:custom:1.0:User"],
        "userName": "jane@example.com",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "42",
            "manager": {"value": "boss-id", "displayName": "Boss"},
        },
        "urn:okta:custom:1.0:User": {
            "costCenter": "R&D",
            "badges": [1, 2, 3],
            "nested": {"deep": [None, True]},
        },
        "x-unknown": "ünïcødé ✓",
    }
    user = RealmUserFactory(username="jane@example.com", attributes=sent)
    assert RealmUser.objects.get(pk=user.pk).attributes == sent


def test_deleting_a_realm_deletes_its_identities(db):
    membership = RealmGroupMembershipFactory()
    realm = membership.group.realm
    realm.delete()
    assert not RealmUser.objects.exists()
    assert not RealmGroupMembership.objects.exists()


@pytest.mark.postgres
def test_constraints_exist_in_postgresql(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename IN ('realms_realmuser', 'realms_realmgroup')")
        names = {row[0] for row in cursor.fetchall()}
    assert {
        "realmuser_unique_username_ci",
        "realmuser_unique_external_id",
        "realmgroup_unique_display_name_ci",
        "realmgroup_unique_external_id",
    } <= names


@pytest.mark.parametrize("table", ["realms_realmuser", "realms_realmgroup", "realms_auditevent"])
def test_realm_foreign_keys_are_kept_without_an_index_of_their_own(db, table):
    """Each write maintains one index fewer (migration 0007), and the database still refuses a row of a realm that
    does not exist: the indexes that start with realm_id serve every query by realm alone."""
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table).values()
    assert any(c["foreign_key"] == ("realms_realm", "uuid") and c["columns"] == ["realm_id"] for c in constraints)
    assert not [c for c in constraints if c["index"] and not c["unique"] and c["columns"] == ["realm_id"]]
    assert [c for c in constraints if c["index"] and c["columns"][:1] == ["realm_id"]]


def test_a_user_of_a_realm_that_does_not_exist_is_refused(transactional_db):
    """The foreign key is checked when the transaction commits (deferred, as Django creates them)."""
    import uuid

    from realms.models import Realm

    with pytest.raises(IntegrityError), transaction.atomic():
        RealmUser.objects.create(realm=Realm(pk=uuid.uuid4()), username="ghost@example.com")
