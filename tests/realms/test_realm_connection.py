"""One realm, one name, one account (issue 17): realm names unique ignoring letter case, in every door."""

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from realms.models import Realm
from realms.services.setup import service_account_username

from ..factories import RealmFactory
from .test_console import realm_form


def test_a_realm_name_taken_in_another_letter_case_is_refused_with_a_clear_form_error(admin_client):
    RealmFactory(name="Okta")
    response = admin_client.post("/realms/create/", realm_form(name="okta"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "A realm with this name already exists (names are compared ignoring letter case): “Okta”." in page
    assert Realm.objects.count() == 1
    # Renaming a realm to its own name in another case is no conflict.
    realm = Realm.objects.get()
    response = admin_client.post(f"/realms/{realm.pk}/update/", realm_form(name="OKTA"))
    assert response.status_code == 302 and Realm.objects.get().name == "OKTA"


def test_the_database_refuses_a_second_realm_named_alike(db):
    RealmFactory(name="Okta Prod")
    with pytest.raises(IntegrityError), transaction.atomic():
        Realm.objects.create(name="OKTA PROD")


def test_create_realm_says_the_name_is_taken_in_any_letter_case(db):
    call_command("create_realm", "--name", "Okta")
    with pytest.raises(CommandError, match=r"A realm with this name already exists .*letter case"):
        call_command("create_realm", "--name", "OKTA")


def test_the_admin_refuses_a_realm_named_alike(admin_client):
    RealmFactory(name="Okta")
    response = admin_client.post(
        "/admin/realms/realm/add/",
        {"name": "okta", "backend": "okta", "login_session_expiry": "3600", "username_claim": "username"},
    )
    assert response.status_code == 200 and "A realm with this name already exists" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "username"),
    [
        ("Okta Prod \u2013 Europe (Zürich)", "scim-okta-prod-europe-zurich"),
        ("Okta", "scim-okta"),
        ("  Łódź / HR  ", "scim-lodz-hr"),
        ("東京", "scim-realm"),
    ],
)
def test_service_account_names_are_readable(name, username):
    assert service_account_username(name) == username
