"""Paging an unfiltered list (Okta's import): every page is right, whether it skips rows or starts where a page
it remembers ended (scim/views/paging.py _PAGE_STARTS), before and after users come and go, ties in creation time
included."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from realms.models import RealmUser

from ..factories import RealmFactory
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
