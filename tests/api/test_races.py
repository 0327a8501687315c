"""A realm name taken by a request that commits while another creates it: 409, never a 500 (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from realms.models import Realm

from .management import make_caller, perms

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_name_committed_meanwhile_is_a_409(client):
    caller = make_caller(client, perms("realm"))
    inserted, release = threading.Event(), threading.Event()

    def other_writer() -> None:
        try:
            with transaction.atomic():
                Realm.objects.create(name="OKTA")  # not committed yet: the API's checks cannot see it
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=other_writer)
    writer.start()
    assert inserted.wait(10)
    # The API's insert waits on the unique index until the other transaction commits, then fails.
    threading.Timer(1.0, release.set).start()
    response = caller.post("/api/realms/", {"name": "okta"})
    writer.join(10)
    assert response.status_code == 409, response.content
    assert "ignoring letter case" in response.json()["detail"]
    assert list(Realm.objects.values_list("name", flat=True)) == ["OKTA"]
