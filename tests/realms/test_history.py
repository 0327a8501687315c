"""A realm user's history as an admin reads it on a bad day: its group membership changes included, long member
lists expandable instead of cut, a creation summarised in one line that expands to its attributes."""

import re

import pytest
from django.test import Client

from realms.models import AuditEvent, ServiceAccount

from ..factories import RealmFactory
from ..scim.conftest import SCIMClient, patch_op, scim_token
from .test_console_scim import push_group, push_user


@pytest.fixture
def realm(db):
    return RealmFactory(name="Okta", scim_enabled=True)


@pytest.fixture
def scim(realm) -> SCIMClient:
    return SCIMClient(Client(), realm, scim_token())


def history_rows(page: str) -> list[tuple[str, str]]:
    history = page[page.index('id="history"') :]
    rows = re.findall(r'<tr class="event" data-action="([a-z_.]+)">(.*?)</tr>\n', history, re.S)
    return [(action, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()) for action, html in rows]


def test_a_users_history_includes_its_group_membership_changes(admin_client, realm, scim):
    jane = push_user(scim, "jane@example.com")
    bob = push_user(scim, "bob@example.com")
    engineering = push_group(scim, "Engineering", [jane["id"], bob["id"]])
    research = push_group(scim, "Research")

    def add(group, user):
        scim.patch(
            f"/Groups/{group['id']}", patch_op({"op": "add", "path": "members", "value": [{"value": user["id"]}]})
        )

    add(research, jane)
    scim.patch(f"/Groups/{engineering['id']}", patch_op({"op": "remove", "path": f'members[value eq "{jane["id"]}"]'}))
    add(research, bob)

    page = admin_client.get(f"/realms/{realm.pk}/users/{jane['id']}/").content.decode()
    rows = history_rows(page)
    assert [action for action, _ in rows] == [
        "group.members_changed",  # removed from Engineering
        "group.members_changed",  # added to Research
        "group.created",  # Engineering, created with jane in it
        "user.created",
    ]
    assert "removed from the group Engineering" in rows[0][1]
    assert "added to the group Research" in rows[1][1]
    assert "added to the group Engineering" in rows[2][1] and "bob@example.com" not in rows[2][1]
    assert 'History <span class="muted">(4)</span>' in page
    # The activity page, filtered on the user (the history's "All events" link), shows the same events.
    activity = admin_client.get("/realms/activity/", {"realm": realm.pk, "resource": jane["id"]}).content.decode()
    assert re.findall(r'data-action="([a-z_.]+)"', activity) == [action for action, _ in rows]
    assert "removed</span> from the group Engineering" in activity
    # Bob's history has his own, not Jane's removal.
    bob_rows = history_rows(admin_client.get(f"/realms/{realm.pk}/users/{bob['id']}/").content.decode())
    assert [a for a, _ in bob_rows] == ["group.members_changed", "group.created", "user.created"]


def test_a_long_membership_change_expands_instead_of_stopping_at_n_more(admin_client, realm, scim):
    ids = [push_user(scim, f"user{n:02d}@example.com")["id"] for n in range(25)]
    group = push_group(scim, "Everyone", ids)
    page = admin_client.get(f"/realms/{realm.pk}/groups/{group['id']}/").content.decode()
    history = page[page.index('id="history"') :]
    assert "Members added (25):" in history
    shown, more = history.split('<details class="more-members">', 1)
    assert all(f"user{n:02d}@example.com" in shown for n in range(20))
    assert "<summary>and 5 more</summary>" in more
    assert all(f"user{n:02d}@example.com" in more for n in range(20, 25))


def test_a_creation_is_one_line_that_expands_to_its_attributes(admin_client, realm, scim):
    jane = push_user(scim, "jane@example.com", externalId="00u1jane")
    page = admin_client.get(f"/realms/{realm.pk}/users/{jane['id']}/").content.decode()
    creation = page[page.index('data-action="user.created"') :]
    summary = re.search(r'<details class="creation"><summary>(.*?)</summary>', creation, re.S).group(1)
    assert summary.startswith("userName jane@example.com · displayName Jane Doe · externalId 00u1jane · ")
    assert re.search(r"\d+ attributes$", summary)
    table = creation[creation.index("</summary>") : creation.index("</details>")]
    assert ">name<" in table and ">emails<" in table


def test_events_link_to_the_service_account_that_made_them(admin_client, realm, scim):
    push_user(scim, "jane@example.com")
    account = ServiceAccount.objects.get(user=AuditEvent.objects.get().actor)
    page = admin_client.get("/realms/activity/").content.decode()
    assert f'href="/realms/service-accounts/{account.pk}/">{account.username}</a>' in page


def activity_rows(page: str) -> list[tuple[str, str]]:
    """Each event row's action and text (up to the next row: rows hold tables of their own)."""
    page = page[: page.index("</table>\n</div>", page.index('<tr class="event"'))]
    parts = page.split('<tr class="event" data-action="')[1:]
    rows = [part.split('">', 1) for part in parts]
    return [(action, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()) for action, html in rows]


def test_a_deleted_groups_members_stay_in_the_trail_and_in_each_members_history(admin_client, realm, scim):
    jane = push_user(scim, "jane@example.com")
    bob = push_user(scim, "bob@example.com")
    engineering = push_group(scim, "Engineering", [jane["id"], bob["id"]])
    assert scim.delete(f"/Groups/{engineering['id']}").status_code == 204

    event = AuditEvent.objects.get(action="group.deleted")
    assert [m["userName"] for m in event.changes["members"]["removed"]] == ["bob@example.com", "jane@example.com"]
    rows = history_rows(admin_client.get(f"/realms/{realm.pk}/users/{jane['id']}/").content.decode())
    assert rows[0][0] == "group.deleted" and "removed with the deleted group Engineering" in rows[0][1]
    assert "added to the group Engineering" in rows[1][1]

    activity = activity_rows(admin_client.get("/realms/activity/", {"realm": realm.pk}).content.decode())
    deleted = dict(activity)["group.deleted"]
    assert "Members removed with the group (2): bob@example.com , jane@example.com" in deleted
    assert "displayName Engineering" in deleted


def test_every_activity_row_says_what_changed(admin_client, realm, scim):
    jane = push_user(scim, "jane@example.com")
    group = push_group(scim, "Empty")
    scim.delete(f"/Groups/{group['id']}")
    scim.delete(f"/Users/{jane['id']}")
    AuditEvent.objects.create(realm=realm, action="group.deleted", resource_type="Group", resource_id="x")  # old row
    rows = activity_rows(admin_client.get("/realms/activity/").content.decode())
    assert {action for action, _ in rows} == {"user.created", "user.deleted", "group.created", "group.deleted"}
    for action, text in rows:
        assert not text.endswith("—"), f"{action}: {text}"
    deleted_user = dict(rows)["user.deleted"]
    assert "userName jane@example.com" in deleted_user and "attributes removed" in deleted_user
    assert any("its members were not recorded" in text for action, text in rows if action == "group.deleted")
