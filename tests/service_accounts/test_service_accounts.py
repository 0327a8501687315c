"""Service accounts: no usable password, never a console/admin login, never superuser."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core import mail
from django.core.exceptions import PermissionDenied

from realms.models import is_service_account
from realms.services import accounts as services

from ..factories import ServiceAccountFactory, User


def test_service_account_has_no_usable_password(db):
    account = services.create_service_account("okta", description="Okta SCIM")
    user = account.user
    assert is_service_account(user) and account.description == "Okta SCIM"
    assert not user.has_usable_password()
    user.set_password("something")
    user.save()
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert not user.check_password("something")


def test_service_account_cannot_log_into_console_or_admin(client, db):
    account = ServiceAccountFactory(username="svc")
    # Even if someone forces a usable password hash into the row (bypassing the models), no login is given.
    donor = User(username="donor")
    donor.set_password("hunter2-hunter2")
    User.objects.filter(pk=account.pk).update(password=donor.password)
    response = client.post("/login/", {"username": "svc", "password": "hunter2-hunter2"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    client.post("/admin/login/", {"username": "svc", "password": "hunter2-hunter2"})
    assert "_auth_user_id" not in client.session


def test_a_backend_that_lets_a_service_account_through_gets_no_session(client, db):
    """A host's backend that does not check passwords (SSO, RemoteUserBackend): the login is undone."""
    account = ServiceAccountFactory(username="svc")
    with pytest.raises(PermissionDenied):
        client.force_login(account, backend="django.contrib.auth.backends.ModelBackend")
    assert "_auth_user_id" not in client.session
    response = client.get("/realms/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_forged_session_of_a_service_account_opens_no_console_page(client, db):
    account = ServiceAccountFactory(username="svc", groups=[])
    session = client.session
    session[SESSION_KEY] = str(account.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = account.get_session_auth_hash()
    session.save()
    client.cookies["sessionid"] = session.session_key
    assert client.get("/realms/").status_code == 403
    assert client.get("/admin/").status_code == 302  # never staff


def test_service_account_is_never_staff_or_superuser(db):
    account = ServiceAccountFactory(username="svc")
    account.is_superuser = True
    account.is_staff = True
    account.save()
    account.refresh_from_db()
    assert not account.is_superuser and not account.is_staff
    account.is_staff = True
    account.save(update_fields=["is_staff"])
    account.refresh_from_db()
    assert not account.is_staff


def test_host_user_admin_cannot_make_a_service_account_staff(admin_client, db):
    account = ServiceAccountFactory(username="svc")
    response = admin_client.post(
        f"/admin/console/user/{account.pk}/change/",
        {
            "username": "svc",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert not account.is_staff and not account.is_superuser and not account.has_usable_password()


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
