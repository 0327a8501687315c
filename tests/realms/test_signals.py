"""The public signals of realms.signals as a host receives them from SCIM requests sent over HTTP with a Bearer
token, as Okta sends them: each change announced once, after its transaction commits, with the documented
arguments; nothing for a change rolled back; a receiver that raises is logged and changes nothing for Okta."""

from __future__ import annotations

import logging
import uuid

import pytest
from django.db import transaction

from realms import services, signals
from realms.models import APIToken, RealmGroup, RealmUser
from realms.services import Actor, UserData

from ..factories import RealmFactory
from ..scim.conftest import SCIMClient, okta_user, patch_op, scim_token


@pytest.fixture
def scim(client, db) -> SCIMClient:
    return SCIMClient(client, RealmFactory(name="Okta", scim_enabled=True), scim_token())


def provision(scim, username: str = "jane@example.com") -> str:
    response = scim.post("/Users", okta_user(username))
    assert response.status_code == 201, response.content
    return response.json()["id"]


def new_group(scim, name: str, member_ids=()) -> str:
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": name,
        "members": [{"value": i} for i in member_ids],
    }
    response = scim.post("/Groups", body)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def assert_scim_actor(event, scim) -> None:
    """The realm, the source and the actor: the service account whose token made the call, and its hint."""
    token = APIToken.objects.get()
    assert event["realm"] == scim.realm
    assert event["source"] == "scim"
    assert event["actor"].source == "scim"
    assert event["actor"].user == token.user
    assert event["actor"].token_hint == token.hint and token.hint and scim.token.endswith(token.hint)


# ---------------------------------------------------------------------------------------------------- users


def test_a_user_provisioned_is_announced_once_after_the_commit(scim, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        user_id = provision(scim)
        assert received.names == []  # not before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    event = received.one("realm_user_provisioned")
    assert received.names == ["realm_user_provisioned"]
    assert event.sender is RealmUser
    assert event["realm_user"].pk == uuid.UUID(user_id)
    assert event["realm_user"].username == "jane@example.com"
    assert set(event.kwargs) == {"realm_user", "realm", "source", "actor"}
    assert_scim_actor(event, scim)


def test_a_profile_update_announces_the_fields_that_changed_old_and_new(scim, received, commit):
    user_id = provision(scim)
    body = okta_user("jane@example.com", given="Janet")
    body["externalId"] = RealmUser.objects.get().external_id
    received.clear()
    with commit():
        response = scim.put(f"/Users/{user_id}", body)
    assert response.status_code == 200, response.content
    event = received.one("realm_user_updated")
    assert received.names == ["realm_user_updated"]
    assert event["changes"]["name"] == {
        "old": {"givenName": "Jane", "familyName": "Doe"},
        "new": {"givenName": "Janet", "familyName": "Doe"},
    }
    assert event["changes"]["displayName"] == {"old": "Jane Doe", "new": "Janet Doe"}
    assert event["realm_user"].given_name == "Janet"
    assert_scim_actor(event, scim)


def test_a_put_that_changes_nothing_announces_nothing(scim, received, commit):
    user_id = provision(scim)
    body = okta_user("jane@example.com")
    body["externalId"] = RealmUser.objects.get().external_id
    received.clear()
    with commit():
        assert scim.put(f"/Users/{user_id}", body).status_code == 200
    assert received.names == []


def test_deactivation_and_reactivation_are_announced_instead_of_an_update(scim, received, commit):
    user_id = provision(scim)
    received.clear()
    with commit():
        response = scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": False}}))
    assert response.status_code == 200, response.content
    event = received.one("realm_user_deactivated")
    assert received.names == ["realm_user_deactivated"]
    assert event["realm_user"].active is False
    assert event["changes"]["active"] == {"old": True, "new": False}
    assert_scim_actor(event, scim)

    received.clear()
    with commit():
        scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": True}}))
    event = received.one("realm_user_reactivated")
    assert received.names == ["realm_user_reactivated"]
    assert event["realm_user"].active is True
    assert event["changes"]["active"] == {"old": False, "new": True}


def test_a_user_deleted_is_announced_with_the_user_as_it_was(scim, received, commit):
    user_id = provision(scim)
    received.clear()
    with commit():
        assert scim.delete(f"/Users/{user_id}").status_code == 204
    event = received.one("realm_user_deleted")
    assert received.names == ["realm_user_deleted"]
    assert not RealmUser.objects.exists()
    assert event["realm_user"].pk == uuid.UUID(user_id)  # its id kept: a receiver can find what it holds for it
    assert event["realm_user"].username == "jane@example.com"
    assert set(event.kwargs) == {"realm_user", "realm", "source", "actor"}
    assert_scim_actor(event, scim)


# ---------------------------------------------------------------------------------------------------- groups


def test_group_lifecycle_over_scim(scim, received, commit):
    jane, john = provision(scim, "jane@example.com"), provision(scim, "john@example.com")
    received.clear()
    with commit():
        group_id = new_group(scim, "Engineering", [jane])
    event = received.one("realm_group_created")
    assert received.names == ["realm_group_created"]  # its first members ride on the creation
    assert event.sender is RealmGroup
    assert event["realm_group"].display_name == "Engineering"
    assert event["member_ids"] == [uuid.UUID(jane)]
    assert_scim_actor(event, scim)

    received.clear()
    with commit():
        op = {"op": "add", "path": "members", "value": [{"value": john}, {"value": jane}]}
        assert scim.patch(f"/Groups/{group_id}", patch_op(op)).status_code == 204
    assert received.names == ["realm_group_members_added"]
    assert received.one("realm_group_members_added")["user_ids"] == [uuid.UUID(john)]  # jane was a member already
    assert_scim_actor(received.one("realm_group_members_added"), scim)

    received.clear()
    with commit():
        op = {"op": "remove", "path": f'members[value eq "{jane}"]'}
        assert scim.patch(f"/Groups/{group_id}", patch_op(op)).status_code == 204
    assert received.names == ["realm_group_members_removed"]
    assert received.one("realm_group_members_removed")["user_ids"] == [uuid.UUID(jane)]

    received.clear()
    with commit():
        op = {"op": "replace", "value": {"id": group_id, "displayName": "Platform"}}
        assert scim.patch(f"/Groups/{group_id}", patch_op(op)).status_code == 204
    event = received.one("realm_group_renamed")
    assert received.names == ["realm_group_renamed"]
    assert (event["old_name"], event["new_name"]) == ("Engineering", "Platform")
    assert event["realm_group"].display_name == "Platform"

    received.clear()
    with commit():
        assert scim.delete(f"/Groups/{group_id}").status_code == 204
    event = received.one("realm_group_deleted")
    assert received.names == ["realm_group_deleted"]  # no members_removed: the deletion says who left
    assert event["realm_group"].pk == uuid.UUID(group_id)
    assert event["member_ids"] == [uuid.UUID(john)]
    assert_scim_actor(event, scim)


def test_okta_renaming_to_the_same_name_with_a_membership_update_announces_only_the_members(scim, received, commit):
    jane = provision(scim)
    group_id = new_group(scim, "Engineering")
    received.clear()
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Engineering",
        "members": [{"value": jane}],
    }
    with commit():
        assert scim.put(f"/Groups/{group_id}", body).status_code == 200
    assert received.names == ["realm_group_members_added"]


# ---------------------------------------------------------------------------------------------------- rollback


def test_a_change_rolled_back_announces_nothing(scim, received, commit):
    realm = scim.realm
    actor = Actor(source="command")
    with commit(), pytest.raises(RuntimeError), transaction.atomic():
        user = services.create_user(realm, UserData(username="jane@example.com", attributes={}), actor)
        services.replace_user(user, UserData(username="jane@example.com", attributes={"x": 1}, active=False), actor)
        group = services.create_group(realm, services.GroupData("Engineering", {}), actor, [user.pk])
        services.delete_group(group, actor)
        services.delete_user(user, actor)
        raise RuntimeError("the caller's transaction fails after the services ran")
    assert received.names == []
    assert not RealmUser.objects.exists()


def test_scim_requests_that_fail_announce_nothing(scim, received, commit):
    user_id = provision(scim)
    group_id = new_group(scim, "Engineering")
    received.clear()
    with commit():
        assert scim.post("/Users", okta_user("JANE@example.com")).status_code == 409  # userName taken
        response = scim.delete(f"/Users/{user_id}", headers={"If-Match": 'W/"99"'})
        assert response.status_code == 412  # a version Okta did not read
        op = {"op": "add", "path": "members", "value": [{"value": str(uuid.uuid4())}]}
        assert scim.patch(f"/Groups/{group_id}", patch_op(op)).status_code == 400  # an unknown member
    assert received.names == []
    assert RealmUser.objects.count() == 1


# ---------------------------------------------------------------------------------------------------- robustness


def test_a_receiver_that_raises_is_logged_and_okta_still_gets_its_201(scim, received, commit, caplog):
    def broken(sender, **kwargs):
        raise RuntimeError("the device API is down")

    signals.realm_user_provisioned.connect(broken, weak=False, dispatch_uid="test-broken")
    try:
        with caplog.at_level(logging.ERROR, logger="django.dispatch"), commit():
            response = scim.post("/Users", okta_user("jane@example.com"))
    finally:
        signals.realm_user_provisioned.disconnect(dispatch_uid="test-broken")
    assert response.status_code == 201, response.content
    assert RealmUser.objects.filter(username="jane@example.com").exists()  # the change is kept
    assert received.names == ["realm_user_provisioned"]  # the other receivers are still called
    (record,) = [r for r in caplog.records if r.name == "django.dispatch"]
    assert record.levelno == logging.ERROR
    assert "broken" in record.getMessage()
    assert record.exc_info and "the device API is down" in str(record.exc_info[1])


def test_without_a_receiver_nothing_is_queued(scim, django_capture_on_commit_callbacks):
    """A signal nobody listens to costs its has_listeners() check only: no on_commit callback, no payload."""
    with django_capture_on_commit_callbacks() as callbacks:
        user_id = provision(scim)
        assert scim.delete(f"/Users/{user_id}").status_code == 204
    assert callbacks == []
