"""The signals in real transactions (`transactional_db`: the requests commit as in production): receivers run after
the commit, outside any transaction, the change readable; Okta's PUT without a transaction (PostgreSQL) announces
its write once; a receiver that raises leaves the response and the change alone."""

from __future__ import annotations

import logging

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from realms import signals
from realms.models import RealmUser

from ..factories import RealmFactory
from ..scim.conftest import SCIMClient, okta_user, patch_op, scim_token
from .signal_recorder import Recorder

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scim(client) -> SCIMClient:
    return SCIMClient(client, RealmFactory(name="Okta", scim_enabled=True), scim_token())


@pytest.fixture
def seen_after_commit():
    """What a receiver sees when it runs: whether it is inside a transaction, and the user's row in the database."""
    seen = []

    def receiver(sender, realm_user, **kwargs):
        row = RealmUser.objects.filter(pk=realm_user.pk).values_list("given_name", "active").first()
        seen.append((connection.in_atomic_block, row))

    for signal in (signals.realm_user_provisioned, signals.realm_user_updated, signals.realm_user_deactivated):
        signal.connect(receiver, weak=False, dispatch_uid="test-seen")
    yield seen
    for signal in (signals.realm_user_provisioned, signals.realm_user_updated, signals.realm_user_deactivated):
        signal.disconnect(dispatch_uid="test-seen")


def test_receivers_run_after_the_commit_and_see_the_change(scim, seen_after_commit):
    user_id = scim.post("/Users", okta_user("jane@example.com")).json()["id"]
    assert seen_after_commit == [(False, ("Jane", True))]
    response = scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": False}}))
    assert response.status_code == 200
    assert seen_after_commit[1] == (False, ("Jane", False))  # the PATCH's transaction has committed


def test_a_transaction_rolled_back_announces_nothing(scim, received):
    with pytest.raises(RuntimeError), transaction.atomic():
        assert scim.post("/Users", okta_user("jane@example.com")).status_code == 201
        raise RuntimeError("rolled back")
    assert not RealmUser.objects.exists()
    assert received.names == []


@pytest.mark.postgres
def test_okta_put_without_a_transaction_announces_its_write_once(scim, received, seen_after_commit):
    if connection.vendor != "postgresql":
        pytest.skip("the PUT without a transaction is PostgreSQL's")
    user_id = scim.post("/Users", okta_user("jane@example.com", external_id="00u1")).json()["id"]
    received.clear()
    seen_after_commit.clear()
    response = scim.put(f"/Users/{user_id}", okta_user("jane@example.com", given="Janet", external_id="00u1"))
    assert response.status_code == 200, response.content
    event = received.one("realm_user_updated")
    assert received.names == ["realm_user_updated"]
    assert event["changes"]["name"]["new"]["givenName"] == "Janet"
    assert event["realm"] == scim.realm and event["source"] == "scim"
    assert seen_after_commit == [(False, ("Janet", True))]


def test_a_receiver_that_raises_leaves_okta_its_response_and_the_change(scim, received, caplog):
    def broken(sender, **kwargs):
        raise RuntimeError("the device API is down")

    signals.realm_user_deactivated.connect(broken, weak=False, dispatch_uid="test-broken")
    try:
        user_id = scim.post("/Users", okta_user("jane@example.com")).json()["id"]
        with caplog.at_level(logging.ERROR, logger="django.dispatch"):
            response = scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": False}}))
    finally:
        signals.realm_user_deactivated.disconnect(dispatch_uid="test-broken")
    assert response.status_code == 200, response.content
    assert response.json()["active"] is False
    assert RealmUser.objects.get(pk=user_id).active is False  # committed, kept
    assert received.names == ["realm_user_provisioned", "realm_user_deactivated"]
    assert any(r.name == "django.dispatch" and r.exc_info for r in caplog.records)


def test_a_receiver_costs_okta_calls_no_query(scim):
    """The arguments are what the change already holds (the realm read with the token): a host's receiver adds no
    query of the apps' to Okta's POST, PUT (without a transaction on PostgreSQL) and deactivation."""

    def queries(call) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert call().status_code in (200, 201)
        return len(captured.captured_queries)

    def calls(n: int):
        body = okta_user(f"user{n}@example.com", external_id=f"00u{n}")
        yield lambda: scim.post("/Users", body)
        user_id = RealmUser.objects.get(username=f"user{n}@example.com").pk
        yield lambda: scim.put(f"/Users/{user_id}", {**body, "displayName": "Jane Smith"})
        yield lambda: scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": False}}))

    assert scim.get("/ServiceProviderConfig").status_code == 200  # warm up: the token's last_used_at is written
    without = [queries(call) for call in calls(1)]
    recorder = Recorder().connect()
    try:
        with_one = [queries(call) for call in calls(2)]
    finally:
        recorder.disconnect()
    assert recorder.names == ["realm_user_provisioned", "realm_user_updated", "realm_user_deactivated"]
    assert with_one == without
