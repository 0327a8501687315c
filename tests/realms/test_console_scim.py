"""The console pages an admin reads after Okta pushed users and groups: lists, filters, details, history, activity,
and the realm's SCIM status. Identities are pushed over SCIM, as Okta pushes them."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from realms.models import AuditEvent, RealmGroup, RealmGroupMembership, RealmUser
from scim.models import RealmSCIMStatus, SCIMRequestError

from ..factories import RealmFactory, RealmGroupFactory, RealmUserFactory, UserFactory
from ..scim.conftest import SCIMClient, okta_user, patch_op, scim_token

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CUSTOM = "urn:okta:custom:1.0:User"


@pytest.fixture
def realm(db):
    return RealmFactory(name="Okta", scim_enabled=True)


@pytest.fixture
def scim(client, realm) -> SCIMClient:
    # Its own test client: the admin's session cookie never rides along with the bearer token.
    from django.test import Client

    return SCIMClient(Client(), realm, scim_token())


def push_user(scim: SCIMClient, username: str, **extra) -> dict:
    body = okta_user(username, given=extra.pop("given", "Jane"), family=extra.pop("family", "Doe"))
    body.update(extra)
    response = scim.post("/Users", body)
    assert response.status_code == 201, response.content
    return response.json()


def push_group(scim: SCIMClient, name: str, member_ids=()) -> dict:
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": name,
        "members": [{"value": i} for i in member_ids],
    }
    response = scim.post("/Groups", body)
    assert response.status_code == 201, response.content
    return response.json()


def usernames(page: str) -> list[str]:
    return re.findall(r'/users/[0-9a-f-]{36}/">([^<]+)</a>', page)


def test_user_list_search_filters_and_sort(admin_client, realm, scim):
    jane = push_user(scim, "jane@example.com", given="Jane", family="Smith")
    bob = push_user(scim, "bob@example.com", given="Bob", family="Adams", emails=[{"value": "rob@corp.example"}])
    carl = push_user(scim, "carl@example.com", given="Carl", family="Zed")
    scim.patch(f"/Users/{carl['id']}", patch_op({"op": "replace", "value": {"active": False}}))
    push_group(scim, "Engineering", [jane["id"], carl["id"]])
    RealmUserFactory(realm=realm, username="legacy@example.com", external_id=None)
    url = f"/realms/{realm.pk}/users/"

    assert usernames(admin_client.get(url).content.decode()) == [
        "bob@example.com",
        "carl@example.com",
        "jane@example.com",
        "legacy@example.com",
    ]
    # search: userName, names, emails (any letter case)
    assert usernames(admin_client.get(url, {"q": "SMITH"}).content.decode()) == ["jane@example.com"]
    assert usernames(admin_client.get(url, {"q": "corp.example"}).content.decode()) == ["bob@example.com"]
    # filters
    assert usernames(admin_client.get(url, {"active": "no"}).content.decode()) == ["carl@example.com"]
    group = RealmGroup.objects.get(display_name="Engineering")
    assert usernames(admin_client.get(url, {"group": group.pk}).content.decode()) == [
        "carl@example.com",
        "jane@example.com",
    ]
    assert usernames(admin_client.get(url, {"group": group.pk, "active": "yes"}).content.decode()) == [
        "jane@example.com"
    ]
    assert usernames(admin_client.get(url, {"external_id": "no"}).content.decode()) == ["legacy@example.com"]
    assert "legacy@example.com" not in admin_client.get(url, {"external_id": "yes"}).content.decode()
    # sort by family name, descending
    assert usernames(admin_client.get(url, {"o": "-family_name", "external_id": "yes"}).content.decode()) == [
        "carl@example.com",
        "jane@example.com",
        "bob@example.com",
    ]
    page = admin_client.get(url, {"q": "nobody-at-all"}).content.decode()
    assert "No user matches these filters" in page
    # a group of another realm is not a valid choice
    other = RealmGroupFactory()
    page = admin_client.get(url, {"group": other.pk}).content.decode()
    assert "Select a valid choice" in page and usernames(page) == []
    assert bob["id"]


def test_user_list_is_paginated_with_filters_kept(admin_client, realm):
    RealmUser.objects.bulk_create(
        [RealmUser(realm=realm, username=f"u{i:03d}@example.com", active=i % 2 == 0) for i in range(120)]
    )
    page = admin_client.get(f"/realms/{realm.pk}/users/", {"active": "yes"}).content.decode()
    assert "60 users found" in page and "Page 1 of 2" in page
    assert "active=yes&amp;page=2" in page
    second = admin_client.get(f"/realms/{realm.pk}/users/", {"active": "yes", "page": 2}).content.decode()
    assert len(usernames(second)) == 10


def test_user_detail_shows_every_attribute_emails_groups_and_history(admin_client, realm, scim):
    user = push_user(
        scim,
        "jane@example.com",
        schemas=["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE, CUSTOM],
        title="Engineer",
        **{ENTERPRISE: {"department": "R&D", "manager": {"value": "00u-boss"}}, CUSTOM: {"costCenter": "CC-42"}},
    )
    push_group(scim, "Engineering", [user["id"]])
    response = scim.patch(f"/Users/{user['id']}", patch_op({"op": "replace", "value": {"active": False}}))
    assert response.status_code == 200

    page = admin_client.get(f"/realms/{realm.pk}/users/{user['id']}/").content.decode()
    assert "inactive" in page
    assert "Core attributes" in page and "Engineer" in page
    assert "Enterprise extension" in page and "R&amp;D" in page and "00u-boss" in page
    assert CUSTOM in page and "CC-42" in page
    assert "jane@example.com" in page and "primary" in page
    assert "Engineering" in page
    assert "none: linked at the user's first SAML sign-in" in page
    history = page[page.index('id="history"') :]
    assert "User deactivated" in history and "User created" in history
    assert re.search(r"active</th><td><span class=\"old\">true</span>.*?<span class=\"new\">false</span>", history)
    assert "token …" in history  # the token's hint, never the token


def test_group_list_counts_members_and_searches(admin_client, realm):
    users = RealmUser.objects.bulk_create([RealmUser(realm=realm, username=f"m{i}@example.com") for i in range(7)])
    big = RealmGroupFactory(realm=realm, display_name="Everyone")
    RealmGroupMembership.objects.bulk_create([RealmGroupMembership(group=big, user=u) for u in users])
    RealmGroupFactory(realm=realm, display_name="Empty team", external_id="okta-grp-1")
    page = admin_client.get(f"/realms/{realm.pk}/groups/").content.decode()
    assert re.search(r"Everyone</a></td>.*?>7</a>", page, re.S)
    assert re.search(r"Empty team</a></td>.*?>0</a>", page, re.S)
    found = admin_client.get(f"/realms/{realm.pk}/groups/", {"q": "every"}).content.decode()
    assert "Everyone" in found and "Empty team" not in found
    by_external_id = admin_client.get(f"/realms/{realm.pk}/groups/", {"q": "okta-grp-1"}).content.decode()
    assert "Empty team" in by_external_id and "Everyone" not in by_external_id
    assert "No group matches" in admin_client.get(f"/realms/{realm.pk}/groups/", {"q": "zzz"}).content.decode()


def _group_with_members(realm, count: int) -> RealmGroup:
    group = RealmGroupFactory(realm=realm)
    users = RealmUser.objects.bulk_create(
        [RealmUser(realm=realm, username=f"{group.pk.hex[:6]}-{i:05d}@example.com") for i in range(count)]
    )
    RealmGroupMembership.objects.bulk_create([RealmGroupMembership(group=group, user=u) for u in users])
    return group


def test_group_detail_pages_members_in_the_database(admin_client, realm):
    small = _group_with_members(realm, 30)
    large = _group_with_members(realm, 450)

    def queries(group) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(f"/realms/{realm.pk}/groups/{group.pk}/", {"page": 2})
        assert response.status_code == 200
        return len(captured)

    # The number of queries does not grow with the group, and no query loads every member.
    assert queries(small) == queries(large)
    page = admin_client.get(f"/realms/{realm.pk}/groups/{large.pk}/", {"page": 5}).content.decode()
    assert "Page 5 of 5" in page and 'id="member-count">450<' in page
    assert len(usernames(page)) == 50
    found = admin_client.get(f"/realms/{realm.pk}/groups/{large.pk}/", {"q": "-00449@"}).content.decode()
    assert len(usernames(found)) == 1 and 'id="member-count">450<' in found


def test_group_detail_history_shows_membership_changes(admin_client, realm, scim):
    jane = push_user(scim, "jane@example.com")
    bob = push_user(scim, "bob@example.com")
    group = push_group(scim, "Engineering", [jane["id"]])
    scim.patch(
        f"/Groups/{group['id']}",
        patch_op(
            {"op": "add", "path": "members", "value": [{"value": bob["id"]}]},
            {"op": "remove", "path": f'members[value eq "{jane["id"]}"]'},
        ),
    )
    page = admin_client.get(f"/realms/{realm.pk}/groups/{group['id']}/").content.decode()
    history = page[page.index('id="history"') :]
    assert "Group membership changed" in history
    assert re.search(r"Members added \(1\):</strong>\s*<span class=\"mono\">bob@example.com", history)
    assert re.search(r"Members removed \(1\):</strong>\s*<span class=\"mono\">jane@example.com", history)


def test_scim_activity_filters(admin_client, realm, scim, client):
    jane = push_user(scim, "jane@example.com")
    scim.patch(f"/Users/{jane['id']}", patch_op({"op": "replace", "value": {"active": False}}))
    other_realm = RealmFactory(name="Other")
    other = SCIMClient(client.__class__(), other_realm, scim_token())
    push_user(other, "zed@example.com")
    actor = AuditEvent.objects.filter(realm=realm).first().actor

    def actions(params) -> list[str]:
        page = admin_client.get("/realms/activity/", params).content.decode()
        return re.findall(r'data-action="([a-z_.]+)"', page)

    assert actions({}) == ["user.created", "user.deactivated", "user.created"]
    assert actions({"realm": realm.pk}) == ["user.deactivated", "user.created"]
    assert actions({"actor": actor.pk}) == ["user.deactivated", "user.created"]
    assert actions({"action": "user.deactivated"}) == ["user.deactivated"]
    assert actions({"resource_type": "Group"}) == []
    assert actions({"resource": jane["id"].upper()}) == ["user.deactivated", "user.created"]
    assert actions({"resource": "zed@"}) == ["user.created"]
    future = (timezone.now() + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert actions({"since": future}) == []
    assert actions({"until": future, "realm": other_realm.pk}) == ["user.created"]
    page = admin_client.get("/realms/activity/", {"action": "user.deactivated"}).content.decode()
    assert "User deactivated" in page and "jane@example.com" in page and actor.username in page
    assert "No event matches these filters" in admin_client.get("/realms/activity/", {"since": future}).content.decode()
    assert "Select a valid choice" in admin_client.get("/realms/activity/", {"action": "nope"}).content.decode()


def test_scim_activity_needs_the_audit_permission(client, db):
    client.force_login(UserFactory(username="viewer", permissions=["realms.view_realm"]))
    assert client.get("/realms/activity/").status_code == 403
    assert b"SCIM activity" not in client.get("/realms/").content
    client.force_login(UserFactory(username="auditor", permissions=["realms.view_auditevent"]))
    page = client.get("/realms/activity/").content.decode()
    assert "No SCIM activity yet" in page and 'href="/realms/activity/"' in page


def test_realm_page_shows_scim_status_and_recent_errors(admin_client, realm, scim):
    page = admin_client.get(f"/realms/{realm.pk}/").content.decode()
    assert "none yet" in page and 'id="scim-errors-24h"><span class="badge ok">0<' in page

    push_user(scim, "jane@example.com")
    page = admin_client.get(f"/realms/{realm.pk}/").content.decode()
    last = re.search(r'id="scim-last-request">(.*?)</td>', page, re.S).group(1)
    assert "POST" in last and "/Users" in last and ">201<" in last and "svc" in last

    bad = scim.get("/Users", token="zrlm_" + "A" * 38)
    assert bad.status_code == 401
    missing = scim.get("/Users/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    page = admin_client.get(f"/realms/{realm.pk}/").content.decode()
    assert re.search(r'id="scim-errors-24h"><a class="badge err" href="[^"]+">2<', page)
    assert ">404<" in re.search(r'id="scim-last-request">(.*?)</td>', page, re.S).group(1)
    errors = page[page.index('id="scim-recent-errors"') :]
    assert "Invalid token" in errors and "GET /Users<" in errors
    assert "zrlm_" not in page  # neither the token nor its prefix is ever stored


def test_status_row_is_written_when_the_outcome_changes_not_on_every_request(realm, scim, settings):
    settings.SCIM = {"REQUEST_STATUS_RESOLUTION": 3600}
    push_user(scim, "jane@example.com")
    first = RealmSCIMStatus.objects.get(realm=realm)
    assert (first.last_method, first.last_status) == ("POST", 201)
    assert scim.get("/Users").status_code == 200  # same outcome within the resolution: not written
    assert RealmSCIMStatus.objects.get(realm=realm).last_method == "POST"
    assert scim.get("/Users/not-a-user").status_code == 404  # a new outcome: written at once
    status = RealmSCIMStatus.objects.get(realm=realm)
    assert (status.last_method, status.last_status) == ("GET", 404)
    error = SCIMRequestError.objects.get(realm=realm)
    assert error.status == 404 and error.detail and error.path == "/Users/not-a-user"
    assert error.token_hint == scim.token[-len(error.token_hint) :] and len(error.token_hint) < 8
    assert scim.token not in error.detail


def test_errors_older_than_the_retention_are_pruned(realm, scim, settings):
    settings.SCIM = {"REQUEST_STATUS_RESOLUTION": 0, "REQUEST_ERROR_RETENTION_DAYS": 1}
    SCIMRequestError.objects.create(
        realm=realm, created_at=timezone.now() - datetime.timedelta(days=2), method="GET", path="/x", status=401
    )
    scim.get("/Users")
    assert not SCIMRequestError.objects.exists()


def test_requests_to_unknown_realms_are_not_recorded(client, db):
    response = SCIMClient(client, RealmFactory.build(), scim_token()).get("/Users")
    assert response.status_code == 404
    assert not RealmSCIMStatus.objects.exists() and not SCIMRequestError.objects.exists()


def test_realm_list_counts_users_and_groups(admin_client, realm):
    RealmUser.objects.bulk_create([RealmUser(realm=realm, username=f"u{i}") for i in range(3)])
    RealmGroupFactory(realm=realm)
    RealmGroupFactory(realm=realm)
    RealmFactory(name="Empty")
    page = admin_client.get("/realms/").content.decode()
    assert re.search(r"Okta</a></td>.*?<td>3</td>\s*<td>2</td>", page, re.S)
    assert re.search(r"Empty</a></td>.*?<td>0</td>\s*<td>0</td>", page, re.S)


def test_user_detail_shows_the_linked_console_user(admin_client, realm):
    from realms.models import ConsoleUserLink

    realm_user = RealmUserFactory(realm=realm, username="jane@example.com")
    person = UserFactory(username="jane.console")
    ConsoleUserLink.objects.create(realm=realm, console_user=person, realm_user=realm_user)
    page = admin_client.get(f"/realms/{realm.pk}/users/{realm_user.pk}/").content.decode()
    linked = re.search(r'id="console-user">(.*?)</td>', page, re.S).group(1)
    assert "jane.console" in linked and "active" in linked


def _queries(client, url: str, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return len(captured)


def test_list_pages_cost_the_same_queries_for_few_or_many_rows(admin_client, realm, scim):
    first = push_user(scim, "first@example.com")
    push_group(scim, "First team", [first["id"]])
    few = {
        "users": _queries(admin_client, f"/realms/{realm.pk}/users/"),
        "groups": _queries(admin_client, f"/realms/{realm.pk}/groups/"),
        "activity": _queries(admin_client, "/realms/activity/"),
        "realms": _queries(admin_client, "/realms/"),
    }
    users = [push_user(scim, f"user{i}@example.com") for i in range(12)]
    for i in range(4):
        push_group(scim, f"Team {i}", [u["id"] for u in users[i:]])
    RealmFactory(name="Another")
    many = {
        "users": _queries(admin_client, f"/realms/{realm.pk}/users/"),
        "groups": _queries(admin_client, f"/realms/{realm.pk}/groups/"),
        "activity": _queries(admin_client, "/realms/activity/"),
        "realms": _queries(admin_client, "/realms/"),
    }
    assert many == few
