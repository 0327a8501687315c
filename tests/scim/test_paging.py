"""Paging an unfiltered list (Okta's import): every page is right, whether it skips rows or starts where a page
it remembers ended (scim/views/paging.py _PAGE_STARTS), before and after users come and go, ties in creation time
included."""

from __future__ import annotations

import datetime
import random
import uuid
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from realms.models import RealmCounts, RealmUser

from ..factories import RealmFactory, RealmUserFactory
from .conftest import SCIMClient, okta_user, scim_token


def _expected(realm) -> list[str]:
    return [
        str(pk)
        for pk in RealmUser.objects.filter(realm=realm).order_by("created_at", "id").values_list("pk", flat=True)
    ]


def _import(scim, count: int, starts=None) -> list[str]:
    """Okta's import: pages of `count` from startIndex 1 until totalResults."""
    seen, start, total = [], 1, None
    while total is None or start <= total:
        body = scim.get(f"/Users?startIndex={start}&count={count}").json()
        total = body["totalResults"]
        seen += [r["id"] for r in body["Resources"]]
        if not body["Resources"]:
            break
        start += count
    return seen


@pytest.fixture
def realm_of_250(db):
    realm = RealmFactory()
    RealmUser.objects.bulk_create(
        [RealmUser(realm=realm, username=f"u{i:04d}@example.com", attributes={}) for i in range(250)]
    )
    tie = timezone.now()
    tied = list(RealmUser.objects.filter(realm=realm).order_by("?").values_list("pk", flat=True)[:100])
    RealmUser.objects.filter(pk__in=tied).update(created_at=tie)  # a bulk load: many users created "at once"
    return realm


def test_an_import_sees_every_user_once_in_order_page_after_page(client, realm_of_250):
    scim = SCIMClient(client, realm_of_250, scim_token())
    for count in (30, 100, 7):
        assert _import(scim, count) == _expected(realm_of_250)  # later pages start where the previous ended


def test_a_page_asked_again_is_the_same_page_and_right_after_changes(client, realm_of_250):
    realm = realm_of_250
    scim = SCIMClient(client, realm, scim_token())
    first = scim.get("/Users?startIndex=91&count=30").json()  # skips 90 rows, remembers where it starts
    again = scim.get("/Users?startIndex=91&count=30").json()  # starts from there
    assert [r["id"] for r in again["Resources"]] == [r["id"] for r in first["Resources"]] == _expected(realm)[90:120]
    victim = _expected(realm)[40]
    assert scim.delete(f"/Users/{victim}").status_code == 204  # positions move: nothing remembered applies
    scim.post("/Users", okta_user("late@example.com"))
    after = scim.get("/Users?startIndex=91&count=30").json()
    assert [r["id"] for r in after["Resources"]] == _expected(realm)[90:120]
    assert after["totalResults"] == 250
    assert _import(scim, 30) == _expected(realm)


def test_a_page_after_a_remembered_one_skips_nothing(client, realm_of_250):
    """The next page of an import reads a range of the index from where the previous page ended: no OFFSET."""
    scim = SCIMClient(client, realm_of_250, scim_token())
    scim.get("/Users?startIndex=1&count=100")
    with CaptureQueriesContext(connection) as captured:
        body = scim.get("/Users?startIndex=101&count=100").json()
    assert [r["id"] for r in body["Resources"]] == _expected(realm_of_250)[100:200]
    page_sql = [q["sql"] for q in captured.captured_queries if "realms_realmuser" in q["sql"]]
    assert page_sql and not [sql for sql in page_sql if "OFFSET" in sql.upper()], page_sql


def test_pages_in_any_order_of_any_size_are_right(client, realm_of_250):
    """Pages asked in random order start from the nearest position an earlier page ended at: each must be the
    right slice of the list, including after a user is deleted in the middle."""
    scim = SCIMClient(client, realm_of_250, scim_token())
    rng = random.Random(42)
    for round_ in range(2):
        expected = _expected(realm_of_250)
        for _ in range(40):
            start, count = rng.randint(1, 260), rng.choice([1, 7, 30, 100])
            body = scim.get(f"/Users?startIndex={start}&count={count}").json()
            assert [r["id"] for r in body["Resources"]] == expected[start - 1 : start - 1 + count], (start, count)
            assert body["totalResults"] == len(expected)
        if not round_:
            assert scim.delete(f"/Users/{expected[rng.randint(0, 249)]}").status_code == 204


def _ids(body) -> list[str]:
    return [r["id"] for r in body["Resources"]]


def _users_moved(realm) -> int:
    return RealmCounts.objects.get(realm=realm).users_moved


def _created_at(when):
    """Users created with their created_at at `when`, as a server whose clock is behind makes them."""
    return mock.patch("django.utils.timezone.now", return_value=when)


def _pages(total: int) -> list[tuple[int, int]]:
    """(startIndex, count) all over a list of `total`, past its end and its last page included: from the end back,
    so that each page starts from a position remembered before it, not from one the previous page has just put."""
    near_the_end = [(total + 3, 2), (total + 1, 30), (total, 5), (total - 4, 10), (total - 29, 30)]
    return [*near_the_end, (200, 25), (150, 1), (91, 30), (45, 7), (31, 30)]


@pytest.fixture
def realm_of_255(realm_of_250):
    """250 users, 100 of them created "at once", then 5 created one after the other: the newest is alone."""
    RealmUserFactory.create_batch(5, realm=realm_of_250)
    return realm_of_250


def _change(kind: str, scim, realm) -> None:
    expected = _expected(realm)
    users = RealmUser.objects.filter(realm=realm)
    if kind == "users created at the end":
        for i in range(3):
            assert scim.post("/Users", okta_user(f"new{i}@example.com")).status_code == 201
    elif kind == "the newest user deleted":
        assert scim.delete(f"/Users/{expected[-1]}").status_code == 204
    elif kind == "the newest user deleted, then one created":
        assert scim.delete(f"/Users/{expected[-1]}").status_code == 204
        assert scim.post("/Users", okta_user("next@example.com")).status_code == 201
    elif kind == "a user in the middle deleted":
        assert scim.delete(f"/Users/{expected[40]}").status_code == 204
    elif kind == "a user created before others":  # say, by a server whose clock is behind
        with _created_at(users.get(pk=expected[120]).created_at - datetime.timedelta(microseconds=1)):
            RealmUserFactory(realm=realm)
    elif kind == "a user created at the same time as the newest":  # ordered by id: this one before it
        with _created_at(users.get(pk=expected[-1]).created_at):
            RealmUserFactory(realm=realm, id=uuid.UUID(int=1))
    elif kind == "a user's created_at changed":
        users.filter(pk=expected[10]).update(created_at=timezone.now())
    elif kind == "a user moved to another realm":
        users.filter(pk=expected[60]).update(realm=RealmFactory())
    elif kind == "a user moved in from another realm":
        with _created_at(users.get(pk=expected[70]).created_at):
            arriving = RealmUserFactory()
        RealmUser.objects.filter(pk=arriving.pk).update(realm=realm)
    else:
        raise AssertionError(kind)


CHANGES = [
    "users created at the end",
    "the newest user deleted",
    "the newest user deleted, then one created",
    "a user in the middle deleted",
    "a user created before others",
    "a user created at the same time as the newest",
    "a user's created_at changed",
    "a user moved to another realm",
    "a user moved in from another realm",
]


@pytest.mark.parametrize("kind", CHANGES)
def test_every_page_is_right_after_a_change_to_a_list_whose_page_starts_are_remembered(client, realm_of_255, kind):
    """Each kind of change made to a list while this process remembers where its pages start, everywhere in it:
    the pages asked again are the slices of the list in order, read from the database."""
    realm = realm_of_255
    scim = SCIMClient(client, realm, scim_token())
    _import(scim, 30)  # remembers every 30th position, the end of the list included
    for start, count in _pages(len(_expected(realm))):
        scim.get(f"/Users?startIndex={start}&count={count}")
    _change(kind, scim, realm)
    expected = _expected(realm)
    for start, count in _pages(len(expected)) + _pages(255):
        body = scim.get(f"/Users?startIndex={start}&count={count}").json()
        assert _ids(body) == expected[start - 1 : start - 1 + count], (kind, start, count)
        assert body["totalResults"] == len(expected)
    assert _import(scim, 30) == expected


def test_a_remembered_last_user_deleted_then_another_created_is_not_where_the_list_goes_on(client, realm_of_255):
    """Deleting the newest user moves no other user, so what is remembered is kept; but the position remembered
    after it is where the list ended. A user created since comes right after the deleted one in the order: a page
    from there would wrongly start with it, one position too far. The page checks that the row it starts after is
    still there."""
    realm = realm_of_255
    scim = SCIMClient(client, realm, scim_token())
    assert len(_ids(scim.get("/Users?startIndex=201&count=100").json())) == 55  # remembers 200 and 255, the end
    moved = _users_moved(realm)
    assert scim.delete(f"/Users/{_expected(realm)[-1]}").status_code == 204
    assert scim.post("/Users", okta_user("late@example.com")).status_code == 201
    assert _users_moved(realm) == moved  # nothing moved: what is remembered is kept
    expected = _expected(realm)
    assert _ids(scim.get("/Users?startIndex=256&count=10").json()) == [] == expected[255:]
    assert _ids(scim.get("/Users?startIndex=251&count=10").json()) == expected[250:260]
    assert _ids(scim.get("/Users?startIndex=255&count=1").json()) == expected[254:255]


def test_a_deep_page_after_a_user_came_and_went_still_starts_where_it_is_remembered(client, realm_of_250):
    """Okta creates a user and deletes it: neither moves a position, so the deep page asked again skips nothing
    (benchmarks/run.py scale, "deep page, just after a change")."""
    realm = realm_of_250
    scim = SCIMClient(client, realm, scim_token())
    scim.get("/Users?startIndex=101&count=100")  # remembers where it starts and ends
    moved = _users_moved(realm)
    created = scim.post("/Users", okta_user("transient@example.com")).json()
    assert scim.delete(f"/Users/{created['id']}").status_code == 204
    assert _users_moved(realm) == moved
    with CaptureQueriesContext(connection) as captured:
        body = scim.get("/Users?startIndex=101&count=100").json()
    assert _ids(body) == _expected(realm)[100:200]
    page_sql = [q["sql"] for q in captured.captured_queries if "realms_realmuser" in q["sql"]]
    assert page_sql and not [sql for sql in page_sql if "OFFSET" in sql.upper()], page_sql


def test_pages_are_right_when_several_remembered_rows_are_gone(client, realm_of_255):
    """The newest user deleted twice over, users created after each: two remembered positions name users that are
    gone. The page finds out in its own statement, forgets them, and is read from the start at worst: three
    statements, never a wrong page."""
    realm = realm_of_255
    scim = SCIMClient(client, realm, scim_token())
    scim.get("/Users?startIndex=246&count=10")  # remembers 245 and 255, the newest user
    moved = _users_moved(realm)
    assert scim.delete(f"/Users/{_expected(realm)[-1]}").status_code == 204
    for name in ("n1", "n2"):
        assert scim.post("/Users", okta_user(f"{name}@example.com")).status_code == 201
    scim.get("/Users?startIndex=247&count=10")  # from 245: remembers 246 and 256, n2
    assert scim.delete(f"/Users/{_expected(realm)[-1]}").status_code == 204
    assert scim.post("/Users", okta_user("n3@example.com")).status_code == 201
    assert _users_moved(realm) == moved
    expected = _expected(realm)
    with CaptureQueriesContext(connection) as captured:
        assert _ids(scim.get("/Users?startIndex=257&count=5").json()) == [] == expected[256:]
    assert len([q for q in captured.captured_queries if "realms_realmuser" in q["sql"]]) == 3
    assert _ids(scim.get("/Users?startIndex=256&count=5").json()) == expected[255:]
    assert _ids(scim.get("/Users?startIndex=250&count=10").json()) == expected[249:259]
