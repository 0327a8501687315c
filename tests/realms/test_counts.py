"""A realm's user and group counts (RealmCounts) are kept by database triggers, whatever writes the rows.

SCIM's totalResults of an unfiltered list is read there instead of counting the realm's rows, so a wrong count
would be a wrong totalResults on every page an IdP imports: these tests change users and groups every way the
product does (SCIM, the ORM as the admin and SAML sign-in do, bulk loads, cascades) and compare with a real count.
"""

from __future__ import annotations

import pytest

from realms.models import RealmCounts, RealmGroup, RealmUser

from ..factories import RealmFactory, RealmGroupFactory, RealmUserFactory
from ..scim.conftest import SCIMClient, okta_user, scim_token


def _counts(realm) -> tuple[int, int]:
    row = RealmCounts.objects.filter(realm=realm).first()
    return (row.users, row.groups) if row else (0, 0)


def _real(realm) -> tuple[int, int]:
    return RealmUser.objects.filter(realm=realm).count(), RealmGroup.objects.filter(realm=realm).count()


@pytest.mark.django_db
def test_counts_follow_every_kind_of_insert_and_delete():
    realm, other = RealmFactory(), RealmFactory()
    assert _counts(realm) == (0, 0)
    users = RealmUserFactory.create_batch(3, realm=realm)
    RealmUser.objects.bulk_create([RealmUser(realm=realm, username=f"bulk{i}@example.com") for i in range(5)])
    RealmGroupFactory.create_batch(2, realm=realm)
    RealmUserFactory(realm=other)
    assert _counts(realm) == _real(realm) == (8, 2)
    users[0].delete()
    RealmUser.objects.filter(realm=realm, username__startswith="bulk").delete()
    RealmGroup.objects.filter(realm=realm).first().delete()
    assert _counts(realm) == _real(realm) == (2, 1)
    RealmUser.objects.filter(pk=users[1].pk).update(realm=other)  # a user moved to another realm
    assert _counts(realm) == _real(realm) == (1, 1)
    assert _counts(other) == _real(other) == (2, 0)
    RealmUser.objects.filter(pk=users[2].pk).update(username="renamed@example.com")  # no move: no change
    assert _counts(realm) == (1, 1)


@pytest.mark.django_db
def test_an_unfiltered_list_total_is_the_real_count_as_users_come_and_go(client):
    realm = RealmFactory()
    scim = SCIMClient(client, realm, scim_token())
    ids = [scim.post("/Users", okta_user(f"p{i}@example.com")).json()["id"] for i in range(5)]
    RealmUserFactory.create_batch(2, realm=realm)  # not through SCIM (say, SAML sign-in)
    assert scim.delete(f"/Users/{ids[0]}").status_code == 204
    assert scim.post("/Users", okta_user("p1@example.com")).status_code == 409  # refused: not counted
    for count in (1, 2, 6, 100):  # a full page needs the total from the counts; a short one ends the list
        body = scim.get(f"/Users?startIndex=1&count={count}").json()
        assert body["totalResults"] == 6 == RealmUser.objects.filter(realm=realm).count()
    scim.post("/Groups", {"displayName": "Team"})
    assert scim.get("/Groups?count=1").json()["totalResults"] == 1


@pytest.mark.django_db
def test_deleting_a_realm_deletes_its_counts():
    realm = RealmFactory()
    RealmUserFactory.create_batch(2, realm=realm)
    realm.delete()
    assert not RealmCounts.objects.exists()
