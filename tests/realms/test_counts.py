"""A realm's user and group counts (RealmCounts) are kept by database triggers, whatever writes the rows.

SCIM's totalResults of an unfiltered list is read there instead of counting the realm's rows, so a wrong count
would be a wrong totalResults on every page an IdP imports: these tests change users and groups every way the
product does (SCIM, the ORM as the admin and SAML sign-in do, bulk loads, cascades) and compare with a real count.
"""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.utils import timezone

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


def _moved(realm) -> tuple[int, int]:
    row = RealmCounts.objects.get(realm=realm)
    return row.users_moved, row.groups_moved


def _created_at(when):
    """Users created with their created_at at `when`, as a server whose clock is behind makes them."""
    return mock.patch("django.utils.timezone.now", return_value=when)


@pytest.mark.django_db
def test_moved_follows_only_the_changes_that_may_move_a_position_in_the_list():
    """`users_moved` and `groups_moved` key what SCIM's paging remembers (scim/views/paging.py): they must move with
    every change that can move a row that stays in the order (created_at, id), and, for deep pages to stay cheap,
    not with a row created at the end nor with the newest row deleted."""
    realm, other = RealmFactory(), RealmFactory()
    users = RealmUserFactory.create_batch(3, realm=realm)
    RealmUser.objects.bulk_create([RealmUser(realm=realm, username=f"bulk{i}@example.com") for i in range(3)])
    group = RealmGroupFactory(realm=realm)
    assert _moved(realm) == (0, 0)  # every row created after the others
    counts = RealmCounts.objects.get(realm=realm)
    newest = RealmUser.objects.filter(realm=realm).order_by("created_at", "id").last()
    assert (counts.users_newest_at, counts.groups_newest_at) == (newest.created_at, group.created_at)

    newest.delete()  # the last row: nothing before any other row changed
    RealmGroup.objects.filter(pk=group.pk).delete()
    assert _moved(realm) == (0, 0)
    users[0].delete()  # the first row: every other row moves up
    assert _moved(realm) == (1, 0)
    RealmUser.objects.filter(realm=realm).order_by("created_at", "id").last().delete()  # last, but not the newest ever
    assert _moved(realm) == (2, 0)  # newest_at is never lowered: counted (exact, only not as lazy as it could be)

    users[1].display_name = "Renamed"
    users[1].save()  # an UPDATE that writes created_at unchanged
    RealmUser.objects.filter(pk=users[1].pk).update(username="renamed@example.com")
    assert _moved(realm) == (2, 0)
    RealmUser.objects.filter(pk=users[1].pk).update(created_at=timezone.now())  # now sorts last
    assert _moved(realm) == (3, 0)

    with _created_at(users[2].created_at - datetime.timedelta(seconds=1)):
        RealmUserFactory(realm=realm)  # before users[2]
    assert _moved(realm) == (4, 0)
    latest = RealmCounts.objects.get(realm=realm).users_newest_at
    with _created_at(latest):
        RealmUserFactory(realm=realm)  # a tie with the newest: ordered by id, maybe before it
    assert _moved(realm) == (5, 0)
    RealmUserFactory(realm=realm)
    assert _moved(realm) == (5, 0)

    RealmUserFactory(realm=other)
    assert _moved(other) == (0, 0)
    RealmUser.objects.filter(pk=users[2].pk).update(realm=other)  # leaves one list, joins another
    assert _moved(realm) == (6, 0)
    assert _moved(other) == (1, 0)
    assert RealmCounts.objects.get(realm=other).users_newest_at >= users[2].created_at
    older, _ = RealmGroupFactory.create_batch(2, realm=realm)
    older.delete()  # groups keep a list of their own
    assert _moved(realm) == (6, 1)
    assert _counts(realm) == _real(realm) and _counts(other) == _real(other)


@pytest.mark.django_db
def test_a_user_created_and_deleted_through_scim_moves_nothing(client):
    """Okta's users come and go at the end of the list: deep pages keep their remembered starts."""
    realm = RealmFactory()
    scim = SCIMClient(client, realm, scim_token())
    for i in range(3):
        scim.post("/Users", okta_user(f"first{i}@example.com"))
    moved = _moved(realm)
    for i in range(3):
        created = scim.post("/Users", okta_user(f"transient{i}@example.com")).json()
        assert scim.delete(f"/Users/{created['id']}").status_code == 204
    assert _moved(realm) == moved
    assert _counts(realm) == _real(realm) == (3, 0)
