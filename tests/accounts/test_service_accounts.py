"""Service accounts: no usable password, never a console/admin login, never superuser."""

import pytest
from django.contrib.auth import authenticate
from django.core import mail
from django.db import IntegrityError, transaction

from accounts import services
from accounts.models import ServiceAccount, User

from ..factories import ServiceAccountFactory


def test_service_account_has_no_usable_password(db):
    account = services.create_service_account("okta", description="Okta SCIM")
    assert account.is_service_account
    assert not account.has_usable_password()
    account.set_password("something")
    account.save()
    account.refresh_from_db()
    assert not account.has_usable_password()
    assert not account.check_password("something")


def test_service_account_cannot_log_into_console(client, db):
    account = ServiceAccountFactory(username="svc")
    # Even if someone forces a usable password into the row, the backend refuses the account.
    User.objects.filter(pk=account.pk).update(password=User(password="").password or "")
    assert authenticate(username="svc", password="") is None
    response = client.post("/login/", {"username": "svc", "password": ""})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_service_account_with_forged_password_hash_cannot_log_in(client, db):
    account = ServiceAccountFactory(username="svc")
    donor = User(username="donor")
    donor.set_password("hunter2-hunter2")
    User.objects.filter(pk=account.pk).update(password=donor.password)
    assert authenticate(username="svc", password="hunter2-hunter2") is None
    client.post("/login/", {"username": "svc", "password": "hunter2-hunter2"})
    assert "_auth_user_id" not in client.session
    client.post("/admin/login/", {"username": "svc", "password": "hunter2-hunter2"})
    assert "_auth_user_id" not in client.session


def test_forged_session_of_a_service_account_is_anonymous(client, db):
    account = ServiceAccountFactory(username="svc")
    client.force_login(account, backend="django.contrib.auth.backends.ModelBackend")
    # The configured backend refuses to restore a service account from a session.
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_service_account_cannot_be_superuser_in_the_database(db):
    account = ServiceAccountFactory(username="svc")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=account.pk).update(is_superuser=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=account.pk).update(is_staff=True)


def test_proxy_save_strips_privileges(db):
    account = ServiceAccount(username="svc", is_superuser=True, is_staff=True)
    account.save()
    account.refresh_from_db()
    assert account.is_service_account and not account.is_superuser and not account.is_staff


def test_password_reset_never_mails_a_service_account(client, db, settings):
    from django.contrib.auth.forms import PasswordResetForm

    ServiceAccountFactory(username="svc", email="svc@example.com")
    form = PasswordResetForm({"email": "svc@example.com"})
    assert form.is_valid()
    form.save(domain_override="example.com")
    assert mail.outbox == []


def test_console_user_can_log_in(client, user_factory, password):
    user_factory(username="alice")
    response = client.post("/login/", {"username": "alice", "password": password})
    assert response.status_code == 302
    assert client.session["_auth_user_id"]
