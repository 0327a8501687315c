"""What a daily user of the console notices: risky role mappings are flagged, roles are checkboxes, realm groups
link to their page, one timestamp format, a 403 with a way back, a styled 500 without a traceback, a logout
that confirms, and no 404 for the favicon."""

import re

import pytest
from django.test import Client

from realms.models import RealmGroupRoleMapping
from realms.services import SCIM_PERMISSION_CODENAMES

from ..factories import GroupFactory, RealmFactory, RealmGroupFactory, ServiceAccountFactory, UserFactory


@pytest.fixture
def realm(db):
    return RealmFactory(name="Okta")


def test_role_mappings_warn_about_write_permissions_and_service_account_groups(admin_client, realm):
    viewers = GroupFactory(name="Viewers", permissions=["realms.view_realm", "realms.view_realmuser"])
    writers = GroupFactory(name="Realm editors", permissions=["realms.view_realm", "realms.change_realm"])
    scim = GroupFactory(name="SCIM Okta", permissions=[f"realms.{c}" for c in SCIM_PERMISSION_CODENAMES])
    ServiceAccountFactory(username="scim-okta", groups=[scim])
    realm_group = RealmGroupFactory(realm=realm, display_name="Okta admins")

    form = admin_client.get(f"/realms/{realm.pk}/roles/add/").content.decode()
    assert 'type="checkbox" name="roles"' in form and '<select name="roles"' not in form  # no Ctrl-click
    labels = dict(re.findall(r'value="(\d+)"[^>]*>\s*([^<]+)</label>', form))
    assert labels[str(viewers.pk)].strip() == "Viewers"
    assert "holds realm write permissions (change_realm)" in labels[str(writers.pk)]
    assert "the group of service account scim-okta" in labels[str(scim.pk)]

    response = admin_client.post(
        f"/realms/{realm.pk}/roles/add/",
        {"realm_group": realm_group.pk, "roles": [viewers.pk, writers.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "Realm editors holds realm write permissions" in page  # said when it is saved
    rows = re.findall(r"<tr><td>(.*?)</td>\s*<td>(.*?)</td>", page, re.S)
    assert len(rows) == 2 and all(f'href="/realms/{realm.pk}/groups/{realm_group.pk}/"' in g for g, _ in rows)
    warned = {re.sub(r"<.*", "", role, flags=re.S).strip(): "role-warning" in role for _, role in rows}
    assert warned == {"Viewers": False, "Realm editors": True}
    assert RealmGroupRoleMapping.objects.count() == 2


def test_one_timestamp_format_with_its_time_zone(admin_client, realm, settings):
    settings.TIME_ZONE = "Europe/Paris"
    page = admin_client.get(f"/realms/{realm.pk}/").content.decode()
    stamps = re.findall(r'<time datetime="[^"]+" title="[^"]+">([^<]+)</time>', page)
    assert stamps and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (CET|CEST)", s) for s in stamps)


def test_the_403_page_offers_a_way_back(client, realm):
    client.force_login(UserFactory(username="viewer", permissions=["realms.view_realm"]))
    response = client.get(f"/realms/{realm.pk}/update/", HTTP_REFERER=f"http://testserver/realms/{realm.pk}/")
    assert response.status_code == 403
    page = response.content.decode()
    assert re.search(rf'href="http://testserver/realms/{realm.pk}/" id="forbidden-back"', page)
    assert 'href="/">Console home</a>' in page and 'class="topbar"' in page


def test_the_500_page_is_styled_and_never_shows_a_traceback(realm, monkeypatch, settings):
    from realms.console import views

    settings.DEBUG = False

    def boom(self):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views.RealmListView, "get_queryset", boom)
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.get("/realms/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Server error" in page and "realms/console.css" in page and 'class="topbar"' in page
    assert "secret internals" not in page and "Traceback" not in page and "RuntimeError" not in page


def test_logout_confirms(client, realm):
    client.force_login(UserFactory(username="alice"))
    confirm = client.get("/logout/")  # a bookmarked logout asks, instead of a 405
    assert confirm.status_code == 200 and "Log out?" in confirm.content.decode()
    assert client.get("/realms/").status_code == 403  # still logged in (no permission, but known)
    response = client.post("/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/login/"
    assert "You are logged out." in response.content.decode()
    assert client.get("/realms/").status_code == 302  # to the login page


def test_no_404_for_the_favicon(client, db):
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200 and response.redirect_chain
    assert b"".join(response.streaming_content if response.streaming else [response.content]).startswith(b"\x89PNG")


def test_the_django_admin_shows_times_in_the_same_format(admin_client, realm):
    page = admin_client.get("/admin/realms/realm/").content.decode()
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page)
