"""Realm console pages, through the test client as a logged-in admin would use them."""

import re

import pytest
from django.core.exceptions import ValidationError

from realms.models import Realm

from ..factories import RealmFactory, RealmGroupMembershipFactory, RealmUserFactory, UserFactory


def realm_form(**overrides):
    data = {
        "name": "Okta",
        "scim_enabled": "on",
        "idp_metadata": "",
        "allow_idp_initiated_login": "on",
        "login_session_expiry_0": "8",
        "login_session_expiry_1": "hours",
        "username_claim": "username",
        "email_claim": "email",
        "first_name_claim": "first_name",
        "last_name_claim": "last_name",
        "full_name_claim": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_create_okta_realm_and_read_scim_root_url(admin_client, idp_metadata):
    response = admin_client.post("/realms/create/", realm_form(idp_metadata=idp_metadata, enabled_for_login="on"))
    assert response.status_code == 302
    realm = Realm.objects.get(name="Okta")
    assert response["Location"] == f"/realms/{realm.pk}/"
    assert realm.backend == "okta" and realm.scim_enabled and realm.enabled_for_login
    page = admin_client.get(response["Location"]).content.decode()
    root = re.search(r'id="scim-root-url">([^<]+)<', page).group(1)
    assert root == f"http://testserver/api/realms/{realm.pk}/scim/v2"
    assert 'data-copy-target="scim-root-url"' in page
    assert f"http://testserver/realms/{realm.pk}/saml/acs/" in page
    assert f"http://testserver/realms/{realm.pk}/saml/metadata/" in page


def test_scim_root_url_shown_only_when_enabled(admin_client):
    realm = RealmFactory(scim_enabled=False)
    page = admin_client.get(f"/realms/{realm.pk}/").content.decode()
    assert 'id="scim-root-url"' not in page
    assert "/scim/v2" not in page
    assert "SCIM is disabled" in page


def test_edit_realm_turns_scim_off_and_on(admin_client):
    realm = RealmFactory(name="Okta", scim_enabled=True)
    response = admin_client.post(f"/realms/{realm.pk}/update/", realm_form(scim_enabled=None))
    assert response.status_code == 302
    realm.refresh_from_db()
    assert not realm.scim_enabled
    assert "scim-root-url" not in admin_client.get(f"/realms/{realm.pk}/").content.decode()
    admin_client.post(f"/realms/{realm.pk}/update/", realm_form())
    realm.refresh_from_db()
    assert realm.scim_enabled
    assert "scim-root-url" in admin_client.get(f"/realms/{realm.pk}/").content.decode()


def test_realm_form_and_admin_offer_weak_signature_algorithms(admin_client):
    realm = RealmFactory(name="Okta")
    assert not realm.allow_weak_signature_algorithms
    form = admin_client.get(f"/realms/{realm.pk}/update/").content.decode()
    assert 'name="allow_weak_signature_algorithms"' in form
    response = admin_client.post(f"/realms/{realm.pk}/update/", realm_form(allow_weak_signature_algorithms="on"))
    assert response.status_code == 302
    realm.refresh_from_db()
    assert realm.allow_weak_signature_algorithms
    assert "Weak signature algorithms" in admin_client.get(f"/realms/{realm.pk}/").content.decode()
    admin_page = admin_client.get(f"/admin/realms/realm/{realm.pk}/change/").content.decode()
    assert 'name="allow_weak_signature_algorithms"' in admin_page


def test_public_base_url_is_used_when_set(admin_client, settings):
    settings.REALMS = {**settings.REALMS, "PUBLIC_BASE_URL": "https://console.example.com"}
    realm = RealmFactory()
    page = admin_client.get(f"/realms/{realm.pk}/").content.decode()
    assert f"https://console.example.com/api/realms/{realm.pk}/scim/v2<" in page


@pytest.mark.parametrize(
    "metadata, message",
    [
        ("not xml", "not valid XML"),
        ("<foo/>", "EntityDescriptor"),
        ('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "forbidden XML"),
        (
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>',
            "IDPSSODescriptor",
        ),
    ],
)
def test_bad_idp_metadata_is_refused_with_a_clear_message(admin_client, metadata, message):
    response = admin_client.post("/realms/create/", realm_form(idp_metadata=metadata))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Realm.objects.exists()


def test_enabled_for_login_needs_metadata(admin_client):
    response = admin_client.post("/realms/create/", realm_form(enabled_for_login="on"))
    assert response.status_code == 200
    assert "needs its IdP metadata" in response.content.decode()


def test_metadata_can_be_uploaded_as_a_file(admin_client, idp_metadata):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("metadata.xml", idp_metadata.encode(), content_type="text/xml")
    response = admin_client.post("/realms/create/", {**realm_form(), "idp_metadata_file": upload})
    assert response.status_code == 302
    assert "IDPSSODescriptor" in Realm.objects.get().idp_metadata


def test_duplicate_realm_name_is_refused(admin_client):
    RealmFactory(name="Okta")
    response = admin_client.post("/realms/create/", realm_form())
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_console_requires_login(client, db):
    realm = RealmFactory()
    for url in (
        "/",
        "/realms/",
        f"/realms/{realm.pk}/",
        "/realms/create/",
        f"/realms/{realm.pk}/users/",
        "/realms/service-accounts/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next=")


def test_pages_are_gated_by_django_permissions(client, db):
    realm = RealmFactory()
    user = UserFactory(username="viewer", permissions=["realms.view_realm"])
    client.force_login(user)
    assert client.get("/realms/").status_code == 200
    assert client.get(f"/realms/{realm.pk}/").status_code == 200
    assert client.get("/realms/create/").status_code == 403
    assert client.get(f"/realms/{realm.pk}/update/").status_code == 403
    assert client.get(f"/realms/{realm.pk}/users/").status_code == 403
    assert client.get(f"/realms/{realm.pk}/groups/").status_code == 403
    assert client.post("/realms/create/", realm_form(name="Sneaky")).status_code == 403
    assert not Realm.objects.filter(name="Sneaky").exists()
    assert f"/realms/{realm.pk}/update/".encode() not in client.get(f"/realms/{realm.pk}/").content  # no Edit button


def test_csrf_is_enforced(db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.post("/realms/create/", realm_form()).status_code == 403


def test_realm_users_and_groups_are_browsable_read_only(admin_client):
    membership = RealmGroupMembershipFactory(
        user__username="jane@example.com", user__external_id="00u1", group__display_name="Engineering"
    )
    realm = membership.group.realm
    other = RealmUserFactory(realm=realm, username="bob@example.com", active=False)
    users = admin_client.get(f"/realms/{realm.pk}/users/").content.decode()
    assert "jane@example.com" in users and "bob@example.com" in users
    found = admin_client.get(f"/realms/{realm.pk}/users/?q=bob").content.decode()
    assert "bob@example.com" in found and "jane@example.com" not in found
    detail = admin_client.get(f"/realms/{realm.pk}/users/{membership.user.pk}/").content.decode()
    assert "00u1" in detail and "Engineering" in detail
    groups = admin_client.get(f"/realms/{realm.pk}/groups/").content.decode()
    assert "Engineering" in groups
    group = admin_client.get(f"/realms/{realm.pk}/groups/{membership.group.pk}/").content.decode()
    assert "jane@example.com" in group and "bob@example.com" not in group
    # another realm's user is not reachable through this realm
    stranger = RealmUserFactory()
    assert admin_client.get(f"/realms/{realm.pk}/users/{stranger.pk}/").status_code == 404
    assert admin_client.get(f"/realms/{realm.pk}/users/{other.pk}/").status_code == 200
    # no write views for realm users and groups
    assert admin_client.post(f"/realms/{realm.pk}/users/{other.pk}/", {}).status_code == 405


def test_sp_metadata_is_served(client, db):
    realm = RealmFactory()
    response = client.get(f"/realms/{realm.pk}/saml/metadata/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f'entityID="http://testserver/realms/{realm.pk}/saml/metadata/"' in body
    assert f'Location="http://testserver/realms/{realm.pk}/saml/acs/"' in body


def test_empty_states(admin_client):
    assert "No realm yet" in admin_client.get("/realms/").content.decode()
    realm = RealmFactory()
    assert "No user yet" in admin_client.get(f"/realms/{realm.pk}/users/").content.decode()
    assert "No group yet" in admin_client.get(f"/realms/{realm.pk}/groups/").content.decode()


def test_console_pages_send_to_the_admin_login_when_the_host_login_url_leads_nowhere(client, db, settings):
    """A host that never set LOGIN_URL keeps Django's /accounts/login/, with no view behind it."""
    settings.LOGIN_URL = "/accounts/login/"
    response = client.get("/realms/")
    assert response.status_code == 302 and response["Location"] == "/admin/login/?next=/realms/"
    settings.LOGIN_URL = "/login/"  # a login page the host has: used as it is
    assert client.get("/realms/")["Location"] == "/login/?next=/realms/"


def test_session_expiry_is_entered_and_shown_as_a_positive_duration(admin_client):
    response = admin_client.post(
        "/realms/create/", realm_form(login_session_expiry_0="90", login_session_expiry_1="minutes")
    )
    assert response.status_code == 302
    realm = Realm.objects.get(name="Okta")
    assert realm.login_session_expiry == 5400
    page = admin_client.get(f"/realms/{realm.pk}/").content.decode()
    assert re.search(r'id="session-expiry">1 hour 30 minutes<', page)
    form = admin_client.get(f"/realms/{realm.pk}/update/").content.decode()
    assert re.search(r'name="login_session_expiry_0" value="90"', form)
    assert re.search(r'<option value="minutes" selected>', form)
    for number in ("0", "-3", ""):
        response = admin_client.post(
            f"/realms/{realm.pk}/update/", realm_form(login_session_expiry_0=number, login_session_expiry_1="hours")
        )
        assert response.status_code == 200, number
        assert "must be positive" in response.content.decode() or "required" in response.content.decode()
    realm.refresh_from_db()
    assert realm.login_session_expiry == 5400
    # The Django admin refuses a non-positive expiry too (the model's own check).
    realm.login_session_expiry = 0
    with pytest.raises(ValidationError):
        realm.full_clean()


def test_a_new_realm_form_offers_the_default_session_expiry(admin_client):
    form = admin_client.get("/realms/create/").content.decode()
    assert 'name="login_session_expiry_0" value="8"' in form and '<option value="hours" selected>' in form
