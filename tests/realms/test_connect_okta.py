"""Connect Okta from the realm's page: one POST gives the group, the service account and a token restricted to the
realm, then the page shows what goes into each Okta field, the token once."""

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from realms.models import APIToken, Realm, ServiceAccount
from realms.services import SCIM_PERMISSION_CODENAMES

from ..factories import RealmFactory, UserFactory
from ..scim.conftest import SCIMClient

SECRET = re.compile(r'id="api-token"[^>]*>(zrlm_[0-9A-Za-z]+)<')
CONNECT_PERMISSIONS = [
    "realms.view_realm",
    "realms.add_serviceaccount",
    "realms.add_apitoken",
    "auth.add_group",
    "auth.change_group",
]


def test_connect_okta_from_an_empty_realm_to_a_working_token(admin_client):
    realm = RealmFactory(name="Okta", scim_enabled=False)
    page = admin_client.get(f"/realms/{realm.pk}/").content.decode()
    assert "Turn SCIM on and connect Okta" in page

    response = admin_client.post(f"/realms/{realm.pk}/connect-okta/")
    assert response.status_code == 302 and response["Location"] == f"/realms/{realm.pk}/#connect-okta"
    realm.refresh_from_db()
    assert realm.scim_enabled
    group = Group.objects.get(name="SCIM Okta")
    assert sorted(group.permissions.values_list("codename", flat=True)) == sorted(SCIM_PERMISSION_CODENAMES)
    account = ServiceAccount.objects.get(user__username="scim-okta")
    assert list(account.user.groups.all()) == [group]
    token = APIToken.objects.get()
    assert token.user == account.user and token.realm == realm and token.created_by.username == "root"

    shown = admin_client.get(f"/realms/{realm.pk}/")
    assert "no-store" in shown["Cache-Control"]
    page = shown.content.decode()
    secret = SECRET.search(page).group(1)
    for okta_field, value in [
        ("SCIM connector base URL", f"http://testserver/api/realms/{realm.pk}/scim/v2"),
        ("Unique identifier field for users", "userName"),
        ("Supported provisioning actions", "Push New Users"),
        ("Authentication Mode", "HTTP Header"),
    ]:
        assert re.search(rf"<th>{okta_field}</th>.*?{re.escape(value)}", page, re.S), okta_field
    assert SCIMClient(Client(), realm, secret).get("/Users").status_code == 200
    assert SCIMClient(Client(), RealmFactory(scim_enabled=True), secret).get("/Users").status_code == 404

    reloaded = admin_client.get(f"/realms/{realm.pk}/").content.decode()
    assert secret not in reloaded and "1 active token restricted to this realm" in reloaded
    assert "Issue a new token" in reloaded and "and revoke the old one" in reloaded
    assert "connect-okta-button" not in reloaded  # no second token beside the first, silently


def test_reconnecting_issues_a_new_token_and_retires_the_old_one_after_the_days_chosen(admin_client):
    realm = RealmFactory(name="Okta", scim_enabled=True)
    admin_client.post(f"/realms/{realm.pk}/connect-okta/")
    admin_client.get(f"/realms/{realm.pk}/")
    old = APIToken.objects.get()
    account = ServiceAccount.objects.get()
    account.user.is_active = False  # someone deactivated it: connecting again must give a token that works
    account.user.save()

    # A plain Connect Okta (a stale page, a second click) issues nothing beside the working token.
    admin_client.post(f"/realms/{realm.pk}/connect-okta/")
    assert APIToken.objects.count() == 1
    page = admin_client.get(f"/realms/{realm.pk}/").content.decode()
    assert "No token issued" in page and "already has 1 active token" in page

    admin_client.post(f"/realms/{realm.pk}/connect-okta/", {"action": "rotate", "retire_after_days": "2"})
    shown = admin_client.get(f"/realms/{realm.pk}/").content.decode()
    secret = SECRET.search(shown).group(1)
    assert "the old token stops working in 2 days" in shown
    new = APIToken.objects.exclude(pk=old.pk).get()
    old.refresh_from_db()
    assert old.revoked_at is None and old.expires_at is not None
    assert abs((old.expires_at - new.created_at).total_seconds() - 2 * 86400) < 60
    assert ServiceAccount.objects.count() == 1 and Group.objects.filter(name="SCIM Okta").count() == 1
    assert SCIMClient(Client(), realm, secret).get("/Users").status_code == 200
    # The panel lists both, the old one with the time it stops working.
    assert "stops working" in shown and old.masked in shown and new.masked in shown

    admin_client.post(f"/realms/{realm.pk}/connect-okta/", {"action": "rotate", "retire_after_days": "0"})
    assert APIToken.objects.active().count() == 1  # "now": both earlier tokens revoked at once


def test_turning_scim_back_on_keeps_the_realm_token_instead_of_issuing_another(admin_client):
    realm = RealmFactory(name="Okta", scim_enabled=True)
    admin_client.post(f"/realms/{realm.pk}/connect-okta/")
    Realm.objects.filter(pk=realm.pk).update(scim_enabled=False)
    page = admin_client.get(f"/realms/{realm.pk}/").content.decode()
    assert "Turn SCIM on and connect Okta" not in page
    assert 'id="scim-on-button"' in page and "Turn SCIM on, issue a new token" in page
    admin_client.post(f"/realms/{realm.pk}/connect-okta/", {"action": "scim_on"})
    assert Realm.objects.get(pk=realm.pk).scim_enabled and APIToken.objects.count() == 1


def test_each_realm_gets_its_own_readable_service_account(admin_client):
    zurich = RealmFactory(name="Okta Prod \u2013 Europe (Zürich)", scim_enabled=True)
    admin_client.post(f"/realms/{zurich.pk}/connect-okta/")
    assert ServiceAccount.objects.get(realm=zurich).username == "scim-okta-prod-europe-zurich"
    okta = RealmFactory(name="Okta", scim_enabled=True)
    admin_client.post(f"/realms/{okta.pk}/connect-okta/")
    first = ServiceAccount.objects.get(realm=okta)
    okta.name = "Okta (old)"  # renamed: its account is still found, by its link rather than its name
    okta.save()
    other = RealmFactory(name="okta", scim_enabled=True)
    admin_client.post(f"/realms/{other.pk}/connect-okta/")
    second = ServiceAccount.objects.get(realm=other)
    assert second != first and second.username == "scim-okta-2"
    assert first.user.groups.get().name == "SCIM Okta" and second.user.groups.get().name == "SCIM okta"
    admin_client.post(f"/realms/{okta.pk}/connect-okta/", {"action": "rotate", "retire_after_days": "1"})
    assert ServiceAccount.objects.get(realm=okta) == first and ServiceAccount.objects.count() == 3
    names = set(APIToken.objects.values_list("name", flat=True))
    assert any(n.startswith("Okta provisioning · Okta Prod \u2013 Europe (Zürich) · 20") for n in names)
    assert any(n.startswith("Okta provisioning · okta · 20") for n in names)


def test_a_person_named_like_the_service_account_keeps_the_name(admin_client):
    UserFactory(username="scim-okta")
    realm = RealmFactory(name="Okta", scim_enabled=True)
    admin_client.post(f"/realms/{realm.pk}/connect-okta/")
    assert ServiceAccount.objects.get().username == "scim-okta-2"


def test_connect_okta_is_gated_by_the_permissions_it_needs(client, db):
    realm = RealmFactory(name="Okta", scim_enabled=False)
    viewer = UserFactory(username="viewer", permissions=["realms.view_realm"])
    client.force_login(viewer)
    page = client.get(f"/realms/{realm.pk}/").content.decode()
    assert "connect-okta-button" not in page and "ask a console administrator" in page
    assert client.post(f"/realms/{realm.pk}/connect-okta/").status_code == 403
    # Everything but changing the realm: enough on a realm with SCIM on, not to turn it on.
    client.force_login(UserFactory(username="connector", permissions=CONNECT_PERMISSIONS))
    assert client.post(f"/realms/{realm.pk}/connect-okta/").status_code == 403
    assert not Realm.objects.get(pk=realm.pk).scim_enabled and not APIToken.objects.exists()
    realm.scim_enabled = True
    realm.save()
    assert "connect-okta-button" in client.get(f"/realms/{realm.pk}/").content.decode()
    assert client.post(f"/realms/{realm.pk}/connect-okta/").status_code == 302
    assert client.get(f"/realms/{realm.pk}/connect-okta/").status_code == 405
    assert APIToken.objects.get().realm == realm


@pytest.mark.parametrize(
    ("base", "warned"),
    [
        ("http://127.0.0.1:8000", "local or private address"),
        ("http://localhost:8000", "local or private address"),
        ("https://10.1.2.3", "local or private address"),
        ("http://console.example.com", "plain HTTP"),
        ("https://console.example.com", None),
    ],
)
def test_the_realm_page_says_when_okta_cannot_reach_the_root_url(admin_client, settings, base, warned):
    settings.REALMS = {**settings.REALMS, "PUBLIC_BASE_URL": base}
    realm = RealmFactory(scim_enabled=True)
    page = admin_client.get(f"/realms/{realm.pk}/").content.decode()
    assert f"{base}/api/realms/{realm.pk}/scim/v2" in page
    if warned:
        assert "Okta cannot reach this URL" in page and warned in page and "PUBLIC_BASE_URL" in page
    else:
        assert "Okta cannot reach this URL" not in page
