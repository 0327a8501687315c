"""A realm's change feed, `GET /api/realms/<uuid>/events/`, read as a consumer reads it: changes made over SCIM
(Django's test client, Bearer tokens as Okta sends them), the feed followed through its `next` URLs.

Every test commits its writes (transactional database): on PostgreSQL the feed serves only the changes of
transactions that have ended, as a consumer in another connection sees them.
"""

from __future__ import annotations

import base64
import datetime
import itertools
import random
import threading
import time
from collections import defaultdict

import pytest
from django.db import connection, connections, transaction
from django.test import Client, override_settings
from django.utils import timezone

from realms.models import AuditEvent
from realms.services import accounts as account_services

from ..factories import GroupFactory, RealmFactory, ServiceAccountFactory, SuperUserFactory, UserFactory
from ..scim.conftest import SCIMClient, okta_user, patch_op, scim_token

pytestmark = pytest.mark.django_db(transaction=True)


def feed_token(permissions=("realms.view_realmuser",), realm=None) -> str:
    account = ServiceAccountFactory(groups=[GroupFactory(permissions=list(permissions))])
    return account_services.issue_token(account, name="feed", realm=realm).secret


class Feed:
    """A consumer of one realm's feed."""

    def __init__(self, client: Client, realm, token: str | None) -> None:
        self.client, self.realm, self.token = client, realm, token
        self.url = f"/api/realms/{realm.pk}/events/"

    def get(self, url: str | None = None, **params):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}
        return self.client.get(url or self.url, params, **headers)

    def page(self, url: str | None = None, **params) -> dict:
        response = self.get(url, **params)
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "application/json"
        return response.json()

    def follow(self, url: str | None = None, **params) -> tuple[list[dict], str]:
        """Every change from `url` on, page after page; and the `next` URL to read later."""
        seen: list[dict] = []
        page = self.page(url, **params)
        while True:
            seen += page["results"]
            if not page["has_more"]:
                return seen, page["next"]
            page = self.page(page["next"])


@pytest.fixture
def realm():
    return RealmFactory(name="Okta", scim_enabled=True)


@pytest.fixture
def scim(client, realm) -> SCIMClient:
    return SCIMClient(client, realm, scim_token())


@pytest.fixture
def feed(client, realm) -> Feed:
    return Feed(client, realm, feed_token())


def create_users(scim: SCIMClient, count: int, prefix: str = "user") -> list[str]:
    ids = []
    for n in range(count):
        response = scim.post("/Users", okta_user(f"{prefix}{n}@example.com"))
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    return ids


def set_title(scim: SCIMClient, user_id: str, title: str) -> None:
    response = scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "path": "title", "value": title}))
    assert response.status_code == 200, response.content


def realm_event_ids(realm) -> list[int]:
    return list(AuditEvent.objects.filter(realm=realm).order_by("id").values_list("id", flat=True))


# ------------------------------------------------------------------------------------------------------- paging


def test_pages_follow_next_oldest_first_each_change_once(scim, feed, realm):
    users = create_users(scim, 5)
    for n, user_id in enumerate(users):
        set_title(scim, user_id, f"Engineer {n}")

    first = feed.page(limit=3)
    assert len(first["results"]) == 3 and first["has_more"] is True
    assert first["next"].startswith(f"http://testserver/api/realms/{realm.pk}/events/?")
    seen, later = feed.follow(limit=3)

    assert [event["id"] for event in seen] == realm_event_ids(realm)  # SQLite and PG: one writer at a time here
    assert [event["type"] for event in seen] == ["user.created"] * 5 + ["user.updated"] * 5
    assert [event["resource"]["id"] for event in seen[5:]] == users
    # Read again from an event's own cursor: exactly the changes after it.
    again = feed.page(cursor=seen[6]["cursor"], limit=100)
    assert [event["id"] for event in again["results"]] == [event["id"] for event in seen[7:]]

    # Nothing new yet: an empty page, and the same place to read from later.
    empty = feed.page(later)
    assert empty == {"results": [], "next": later, "has_more": False}
    set_title(scim, users[0], "Manager")
    scim.delete(f"/Users/{users[1]}")
    new, _ = feed.follow(later)
    assert [(event["type"], event["resource"]["id"]) for event in new] == [
        ("user.updated", users[0]),
        ("user.deleted", users[1]),
    ]


def test_an_event_as_a_consumer_reads_it(scim, feed, realm):
    token = scim_token()
    scim.token = token
    before = timezone.now()
    user_id = create_users(scim, 1)[0]
    set_title(scim, user_id, "Engineer")

    created, updated = feed.page()["results"]
    assert set(updated) == {"id", "cursor", "type", "resource", "changes", "actor", "realm", "time"}
    assert updated["type"] == "user.updated"
    assert updated["resource"] == {"type": "User", "id": user_id, "repr": "user0@example.com"}
    assert updated["changes"] == {"title": {"old": None, "new": "Engineer"}}
    account = AuditEvent.objects.get(pk=updated["id"]).actor
    assert updated["actor"] == {"username": account.get_username(), "token_hint": token[-4:], "source": "scim"}
    assert updated["realm"] == str(realm.pk)
    assert updated["time"].endswith("Z")
    recorded = datetime.datetime.fromisoformat(updated["time"].replace("Z", "+00:00"))
    assert before <= recorded <= timezone.now()
    assert created["type"] == "user.created" and created["changes"]["userName"]["new"] == "user0@example.com"


def test_only_this_realms_changes(scim, feed, client):
    other = RealmFactory(name="Other", scim_enabled=True)
    create_users(SCIMClient(client, other, scim_token()), 2, prefix="other")
    create_users(scim, 1)
    assert [event["resource"]["repr"] for event in feed.page()["results"]] == ["user0@example.com"]


def test_group_and_membership_changes_are_in_the_feed(scim, feed):
    users = create_users(scim, 2)
    response = scim.post("/Groups", {"displayName": "Staff", "members": [{"value": users[0]}]})
    assert response.status_code == 201, response.content
    group_id = response.json()["id"]
    add = patch_op({"op": "add", "path": "members", "value": [{"value": users[1]}]})
    assert scim.patch(f"/Groups/{group_id}", add).status_code in {200, 204}
    assert scim.delete(f"/Groups/{group_id}").status_code == 204

    types = [event["type"] for event in feed.page(type="group.created,group.members_changed,group.deleted")["results"]]
    assert types == ["group.created", "group.members_changed", "group.deleted"]


def test_on_sqlite_the_feed_position_of_an_event_is_its_id(scim, realm):
    """SQLite serialises writes: id order is commit order, and the trigger makes txid the id (PostgreSQL: below)."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's trigger")
    user_id = create_users(scim, 2)[0]
    set_title(scim, user_id, "Engineer")
    events = AuditEvent.objects.filter(realm=realm)
    assert events.count() == 3 and all(event.txid == event.pk for event in events)


def test_a_page_costs_three_queries(scim, feed, django_assert_num_queries):
    create_users(scim, 3)
    feed.page()  # the token's last use is written at most once a minute: not on the polls below
    with django_assert_num_queries(3):  # the token with its permissions, the realm, the page
        assert len(feed.page(limit=2)["results"]) == 2
    with django_assert_num_queries(4):  # filtered: and where the feed ends now
        assert len(feed.page(type="user.created", limit=2)["results"]) == 2


def test_a_filtered_read_moves_past_the_changes_it_left_out(scim, feed):
    """A consumer that reads only deletions does not read the other changes again on its next poll: its `next`
    starts after them. And nothing it asked for is skipped."""
    users = create_users(scim, 5)
    page = feed.page(type="user.deleted", limit=1)
    assert page["results"] == [] and page["has_more"] is False
    everything = feed.page()
    assert page["next"].split("cursor=")[1].split("&")[0] == everything["results"][-1]["cursor"]
    assert feed.page(page["next"]) == page  # nothing new

    scim.delete(f"/Users/{users[0]}")
    set_title(scim, users[1], "Engineer")
    scim.delete(f"/Users/{users[2]}")
    page = feed.page(page["next"])
    assert [e["resource"]["id"] for e in page["results"]] == [users[0]] and page["has_more"] is True
    page = feed.page(page["next"])
    assert [e["resource"]["id"] for e in page["results"]] == [users[2]]
    assert feed.page(page["next"])["results"] == []


# ------------------------------------------------------------------------------------------------------ filters


def test_filter_by_type_repeated_or_comma_separated(scim, feed):
    users = create_users(scim, 3)
    set_title(scim, users[0], "A")
    scim.delete(f"/Users/{users[2]}")

    assert [e["type"] for e in feed.page(type="user.deleted")["results"]] == ["user.deleted"]
    repeated = feed.page(type=["user.updated", "user.deleted"])["results"]
    assert [e["type"] for e in repeated] == ["user.updated", "user.deleted"]
    assert feed.page(type="user.updated,user.deleted")["results"] == repeated


def test_the_filters_carry_over_to_next(scim, feed):
    users = create_users(scim, 4)
    for user_id in users:
        set_title(scim, user_id, "T")
    seen, later = feed.follow(type="user.updated", limit=1)
    assert [e["resource"]["id"] for e in seen] == users
    assert "type=user.updated" in later and "limit=1" in later


def test_filter_by_time_after_inclusive_before_exclusive(scim, feed):
    create_users(scim, 2)
    events = list(AuditEvent.objects.order_by("id"))
    # Spread the two changes an hour apart (recorded times are the database's to set; here the test sets them).
    AuditEvent.objects.filter(pk=events[0].pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    cut = AuditEvent.objects.get(pk=events[1].pk).created_at
    iso = cut.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")

    assert [e["id"] for e in feed.page(after=iso)["results"]] == [events[1].pk]
    assert [e["id"] for e in feed.page(before=iso)["results"]] == [events[0].pk]
    in_paris = cut.astimezone(datetime.timezone(datetime.timedelta(hours=1))).isoformat()
    assert [e["id"] for e in feed.page(after=in_paris)["results"]] == [events[1].pk]
    assert feed.page(after=iso, before=iso)["results"] == []
    assert len(feed.page(after=(cut - datetime.timedelta(days=1)).date().isoformat())["results"]) == 2


@pytest.mark.parametrize(
    "params, field",
    [
        ({"type": "user.exploded"}, "type"),
        ({"type": "user.created,nope"}, "type"),
        ({"after": "yesterday"}, "after"),
        ({"before": "2026-13-45T00:00:00Z"}, "before"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "²"}, "limit"),
        ({"resource_id": "x" * 65}, "resource_id"),
        ({"resource_id": "a\x00b"}, "resource_id"),  # PostgreSQL refuses NUL in a string: never sent to it
        ({"cursor": "MS4\x00"}, "cursor"),
        ({"cursor": "Île"}, "cursor"),
        ({"typ": "user.created"}, "typ"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(feed, params, field):
    response = feed.get(**params)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field] and body[field][0]


# ------------------------------------------------------------------------------------------------------- cursor


def test_a_bad_or_forged_cursor_is_a_400(scim, feed, client):
    create_users(scim, 3)
    good = feed.page()["results"][0]["cursor"]
    text = base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)).decode()
    version, txid, pk, checksum = text.split(".")
    forged = base64.urlsafe_b64encode(f"{version}.{txid}.{int(pk) + 1}.{checksum}".encode()).decode()
    huge = base64.urlsafe_b64encode(f"1.{'9' * 19}.{'9' * 19}.{checksum}".encode()).decode()
    other_realm = RealmFactory(name="Other")
    other_feed = Feed(client, other_realm, feed.token)

    for cursor in ["nonsense", "%%%", good[:-3], forged, huge, "", "MS4wLjA"]:
        response = feed.get(cursor=cursor)
        if cursor == "":
            assert response.status_code == 200  # no cursor: from the first change
            continue
        assert response.status_code == 400, cursor
        assert "Invalid cursor" in response.json()["cursor"][0]
    # A cursor of another realm's feed is refused too, not read as a position in this one.
    assert other_feed.get(cursor=good).status_code == 400


# -------------------------------------------------------------------------------------- authentication, permissions


def test_no_token_is_a_401(feed):
    feed.token = None
    response = feed.get()
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_revoked_token_is_a_401(feed):
    from realms.models import APIToken

    APIToken.objects.update(revoked_at=timezone.now())
    assert feed.get().status_code == 401


def test_view_realmuser_is_needed(client, realm):
    for permissions in [(), ("realms.view_realmgroup", "realms.add_realmuser", "realms.change_realmuser")]:
        response = Feed(client, realm, feed_token(permissions)).get()
        assert response.status_code == 403
        assert "realms.view_realmuser" in response.json()["detail"]
    assert Feed(client, realm, feed_token(("realms.view_realmuser",))).get().status_code == 200


def test_a_superuser_token_reads_any_realm(client, realm):
    token = account_services.issue_token(SuperUserFactory(), name="admin").secret
    assert Feed(client, realm, token).get().status_code == 200


def test_a_realm_restricted_token_reads_only_its_realm_others_are_404_as_in_scim(client, realm):
    other = RealmFactory(name="Other", scim_enabled=True)
    restricted = feed_token(realm=realm)
    assert Feed(client, realm, restricted).get().status_code == 200

    refused = Feed(client, other, restricted).get()
    unknown = Feed(client, RealmFactory.build(), restricted).get()
    assert refused.status_code == unknown.status_code == 404
    assert refused.json() == unknown.json()  # says nothing about whether the other realm exists
    # SCIM answers that token the same way on that realm.
    assert SCIMClient(client, other, restricted).get("/Users").status_code == 404


def test_reads_are_not_counted_in_the_tokens_scim_rate_limit(feed, settings):
    # The feed is the management API's kind: not rate limited by the apps (docs/api.md); SCIM's limit is SCIM's.
    settings.SCIM = {**getattr(settings, "SCIM", {}), "RATE_LIMIT": "2/minute"}
    assert [feed.get().status_code for _ in range(3)] == [200, 200, 200]


def test_an_unknown_realm_is_a_404(client):
    response = Feed(client, RealmFactory.build(), feed_token()).get()
    assert response.status_code == 404
    assert response.json() == {"detail": "No realm at this URL."}


def test_a_deleted_realm_has_no_feed_its_events_stay_in_the_trail(scim, feed, realm):
    create_users(scim, 1)
    realm.delete()
    assert feed.get().status_code == 404
    assert AuditEvent.objects.filter(realm=None, action="user.created").count() == 1


# ------------------------------------------------------------------------------------------------ USE_TZ = False


@override_settings(USE_TZ=False, TIME_ZONE="America/New_York")
def test_a_host_without_time_zones_gets_utc_times_and_time_filters_work(client, realm, feed):
    scim = SCIMClient(client, realm, scim_token())
    create_users(scim, 1)
    stored = AuditEvent.objects.get().created_at
    assert timezone.is_naive(stored)  # in New York time, as Django stores it without USE_TZ

    (event,) = feed.page()["results"]
    recorded = datetime.datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    assert abs(recorded - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=1)

    utc = recorded.isoformat().replace("+00:00", "Z")
    assert len(feed.page(after=utc)["results"]) == 1
    assert feed.page(before=utc)["results"] == []
    local = stored.isoformat()  # no offset: the host's own time zone
    assert len(feed.page(after=local)["results"]) == 1


# --------------------------------------------------------------------------------------- concurrency (PostgreSQL)


@pytest.mark.postgres
def test_every_scim_write_stamps_its_events_with_its_transaction(scim, realm):
    """The trigger covers every way SCIM writes an event, the one-statement INSERTs and the PUT that writes its
    event in the UPDATE's statement included: each write's events carry its own, newer transaction id."""
    user_id = create_users(scim, 1)[0]  # one statement (realms.sql.writes.save_together)
    body = okta_user("user0@example.com") | {"title": "Engineer"}
    assert scim.put(f"/Users/{user_id}", body).status_code == 200  # realms.sql.writes.save_if_version
    set_title(scim, user_id, "Manager")  # a transaction with the row lock
    group = scim.post("/Groups", {"displayName": "Staff", "members": [{"value": user_id}]})
    assert group.status_code == 201
    assert scim.delete(f"/Users/{user_id}").status_code == 204

    events = list(AuditEvent.objects.filter(realm=realm).order_by("id"))
    assert [e.action for e in events] == [
        "user.created",
        "user.updated",
        "user.updated",
        "group.created",
        "user.deleted",
    ]
    txids = [e.txid for e in events]
    assert all(txids) and txids == sorted(set(txids)), txids
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        (current,) = cursor.fetchone()
        scim.delete(f"/Groups/{group.json()['id']}")
        assert AuditEvent.objects.get(action="group.deleted").txid == current


@pytest.mark.postgres
def test_concurrent_scim_writes_each_change_read_once_in_commit_order_per_resource(realm):
    """Writers in their own connections make SCIM writes whose transactions stay open a random while after the
    write (their audit event's id is taken, their commit comes later), so commits interleave out of id order; a
    reader follows the feed meanwhile and until it catches up. It must see every committed change exactly once,
    and the changes of each user in the order they were committed (each title change starts from the title the
    previous one set)."""
    writer_token = scim_token()
    setup = SCIMClient(Client(), realm, writer_token)
    users = create_users(setup, 6)
    feed = Feed(Client(), realm, feed_token())
    commit_log: list[tuple[str, str]] = []  # (resource, title set) in the order the transactions committed
    lock = threading.Lock()
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        scim = SCIMClient(Client(), realm, writer_token)
        rng = random.Random(number)
        try:
            for step in range(12):
                with transaction.atomic():
                    if rng.random() < 0.5:
                        response = scim.post("/Users", okta_user(f"w{number}-{step}@example.com"))
                        assert response.status_code == 201, response.content
                        resource, value = response.json()["id"], "created"
                    else:
                        resource, value = rng.choice(users), f"w{number}-{step}"
                        set_title(scim, resource, value)
                    time.sleep(rng.uniform(0, 0.03))  # the event is written; the commit waits
                with lock:
                    commit_log.append((resource, value))
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(5)]
    for thread in writers:
        thread.start()
    seen: list[dict] = []
    created: list[dict] = []  # a second consumer reads only the new users: its pages skip over the other changes
    next_url, next_created = f"{feed.url}?limit=7", f"{feed.url}?limit=50&type=user.created"
    while any(thread.is_alive() for thread in writers):
        page, filtered = feed.page(next_url), feed.page(next_created)
        seen += page["results"]
        created += filtered["results"]
        next_url, next_created = page["next"], filtered["next"]
        time.sleep(0.005)
    for thread in writers:
        thread.join()
    assert not errors, errors
    seen += feed.follow(next_url)[0]
    created += feed.follow(next_created)[0]

    ids = [event["id"] for event in seen]
    assert len(ids) == len(set(ids)), "a change was served twice"
    assert sorted(ids) == realm_event_ids(realm), "a committed change was never served"
    assert [e["id"] for e in created] == [e["id"] for e in seen if e["type"] == "user.created"], "filtered: skipped"
    # Per user, each title change starts where the one before it, in the feed, left off: commit order.
    titles: dict[str, list[dict]] = defaultdict(list)
    for event in seen:
        if "title" in event["changes"]:
            titles[event["resource"]["id"]].append(event["changes"]["title"])
    for changes in titles.values():
        assert all(earlier["new"] == later["old"] for earlier, later in itertools.pairwise(changes))
    # The run did commit changes out of id order (what a reader paging by id alone would have skipped).
    by_change = {(e["resource"]["id"], (e["changes"].get("title") or {}).get("new", "created")): e["id"] for e in seen}
    commit_ids = [by_change[entry] for entry in commit_log]
    assert any(later < earlier for earlier, later in itertools.pairwise(commit_ids))


def test_a_console_session_with_the_view_permission_reads_the_feed(client, realm, scim):
    # A host's own page may read the feed with its user's session, as the management API (docs/api.md).
    create_users(scim, 2)
    viewer = UserFactory(permissions=["realms.view_realmuser"])
    client.force_login(viewer)
    page = client.get(f"/api/realms/{realm.pk}/events/").json()
    assert [event["type"] for event in page["results"]] == ["user.created", "user.created"]
    client.force_login(UserFactory())  # no permission: refused
    assert client.get(f"/api/realms/{realm.pk}/events/").status_code == 403
