"""A host with `USE_TZ = False` (Zentral's own setting): every page, the admin, SCIM and the commands work.

With USE_TZ off, Django stores and returns naive datetimes in `TIME_ZONE` (and the database connection speaks that
zone too), so `timezone.localtime()` raises on them and an aware datetime compared with a column is refused by
SQLite. The zone here is not UTC, so a timestamp shown or rendered in the wrong zone is caught too. Every object is
made inside the setting, as in such a host.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import zoneinfo

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from realms.models import (
    APIToken,
    AuditEvent,
    ConsoleUserLink,
    RealmGroupRoleMapping,
    RealmLoginSession,
    SAMLConsumedAssertion,
    ServiceAccount,
)
from realms.services import accounts as account_services

from .factories import (
    RealmFactory,
    RealmGroupFactory,
    RealmGroupMembershipFactory,
    RealmUserFactory,
    ServiceAccountFactory,
    UserFactory,
)
from .realms.saml_idp import install_idp, make_key_pair, make_saml_realm, sign_in
from .realms.test_admin_pages import admin_url, label, registered_models
from .scim.conftest import SCIMClient, okta_user, patch_op, scim_token

ZONE = "America/New_York"  # UTC-5 in winter, UTC-4 in summer: never UTC


@pytest.fixture(autouse=True)
def _naive_datetimes(settings):
    """Before the database fixtures: the connection's time zone follows USE_TZ (Django's setting_changed receiver),
    and must be back to the suite's one after the test's transaction is rolled back."""
    settings.USE_TZ = False
    settings.TIME_ZONE = ZONE
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@pytest.fixture
def world(db) -> dict:
    """A realm with users, a group, a role mapping, an audit event, failed SCIM requests, and a service account
    whose token was used: made through the services and SCIM, as in a real host."""
    realm = RealmFactory(name="Okta", scim_enabled=True)
    realm_user = RealmUserFactory(realm=realm, username="jane@example.com")
    membership = RealmGroupMembershipFactory(
        group=RealmGroupFactory(realm=realm, display_name="Engineering"), user=realm_user
    )
    console_user = UserFactory(username="jane")
    link = ConsoleUserLink.objects.create(realm=realm, console_user=console_user, realm_user=realm_user)
    role = Group.objects.create(name="Engineers")
    mapping = RealmGroupRoleMapping.objects.create(realm_group=membership.group, role=role)
    account_user = ServiceAccountFactory(username="okta-scim", groups=[])
    issued = account_services.issue_token(
        account_user, name="Okta", realm=realm, expires_at=timezone.now() + datetime.timedelta(days=30)
    )
    return {
        "realm": realm,
        "realm_user": realm_user,
        "group": membership.group,
        "link": link,
        "mapping": mapping,
        "account": account_user.realms_service_account,
        "token": issued.token,
        "secret": issued.secret,
    }


@pytest.fixture
def scim(client, world) -> SCIMClient:
    return SCIMClient(client, world["realm"], scim_token())


def assert_ok(response, url: str = "") -> str:
    assert response.status_code == 200, (url, response.status_code, response.content[:3000])
    return response.content.decode()


def meta_times(resource: dict) -> tuple[datetime.datetime, datetime.datetime]:
    """meta.created and meta.lastModified as RFC 7643 §2.3.5 dateTimes: with their zone, UTC here."""
    created, modified = resource["meta"]["created"], resource["meta"]["lastModified"]
    for value in (created, modified):
        assert value.endswith("Z"), value
    return datetime.datetime.fromisoformat(created), datetime.datetime.fromisoformat(modified)


def assert_recent(moment: datetime.datetime) -> None:
    assert abs(utc_now() - moment) < datetime.timedelta(minutes=2), moment


# ------------------------------------------------------------------------------------------------------- SCIM


def test_scim_exchange_renders_meta_timestamps_in_utc(scim, world):
    created = scim.post("/Users", okta_user("ann@example.com"))
    assert created.status_code == 201, created.content
    user = created.json()
    first_created, first_modified = meta_times(user)
    assert_recent(first_created)
    assert_recent(first_modified)

    url = f"/Users/{user['id']}"
    got = scim.get(url)
    assert got.status_code == 200 and meta_times(got.json())[0] == first_created

    body = {**okta_user("ann@example.com", given="Annie"), "id": user["id"]}
    put = scim.put(url, body)
    assert put.status_code == 200, put.content
    assert put.json()["name"]["givenName"] == "Annie"
    assert meta_times(put.json())[1] >= first_modified

    patched = scim.patch(url, patch_op({"op": "replace", "value": {"active": False}}))
    assert patched.status_code == 200, patched.content
    assert patched.json()["active"] is False
    assert_recent(meta_times(patched.json())[1])

    group = scim.post(
        "/Groups",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Sales",
            "members": [{"value": user["id"]}],
        },
    )
    assert group.status_code == 201, group.content
    assert_recent(meta_times(group.json())[0])
    members = scim.patch(
        f"/Groups/{group.json()['id']}",
        patch_op({"op": "remove", "path": f'members[value eq "{user["id"]}"]'}),
    )
    assert members.status_code in (200, 204), members.content

    assert scim.delete(url).status_code == 204
    assert scim.delete(f"/Groups/{group.json()['id']}").status_code == 204
    assert AuditEvent.objects.filter(realm=world["realm"]).count() >= 6


def test_scim_filters_on_meta_timestamps(scim, world):
    created = scim.post("/Users", okta_user("ann@example.com")).json()
    stamp = created["meta"]["lastModified"]
    hour_ago = (utc_now() - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def names(filter_text: str) -> set[str]:
        response = scim.get(f"/Users?filter={filter_text}")
        assert response.status_code == 200, response.content
        return {r["userName"] for r in response.json()["Resources"]}

    assert names(f'meta.lastModified eq "{stamp}"') == {"ann@example.com"}
    assert "ann@example.com" in names(f'meta.created gt "{hour_ago}"')
    assert names(f'meta.created lt "{hour_ago}"') == set()


# ------------------------------------------------------------------------------------------------ console pages


def test_realm_page_shows_the_last_scim_request_in_the_host_zone(admin_client, scim, world):
    assert scim.get("/Users?startIndex=1&count=2").status_code == 200
    assert scim.get("/Users/not-a-uuid").status_code == 404  # a failed request: the errors of the last 24 hours
    url = reverse("realms:detail", args=[world["realm"].pk])
    page = assert_ok(admin_client.get(url), url)
    # The time of the request, in the host's zone with its name (EST or EDT), not UTC.
    local = utc_now().astimezone(zoneinfo.ZoneInfo(ZONE))
    assert local.strftime("%Z") in page
    assert re.search(r'<time datetime="[^"]+-0[45]:00"', page)  # the machine-readable time has its offset
    assert re.search(r'id="scim-errors-24h"><a class="badge err" href="[^"]+">1</a>', page)


def test_every_console_page_opens(admin_client, scim, world):
    assert scim.post("/Users", okta_user("ann@example.com")).status_code == 201
    assert scim.get("/Users/not-a-uuid").status_code == 404
    realm = world["realm"]
    account = world["account"]
    token = world["token"]
    pk = realm.pk
    since = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    urls = [
        reverse("realms:list"),
        reverse("realms:detail", args=[pk]),
        reverse("realms:update", args=[pk]),
        reverse("realms:scim_requests", args=[pk]),
        reverse("realms:scim_requests", args=[pk]) + f"?since={since}",
        reverse("realms:users", args=[pk]),
        reverse("realms:user", args=[pk, world["realm_user"].pk]),
        reverse("realms:groups", args=[pk]),
        reverse("realms:group", args=[pk, world["group"].pk]),
        reverse("realms:activity"),
        reverse("realms:activity") + f"?since={since}",
        reverse("realms:role_mappings", args=[pk]),
        reverse("realms:role_mapping_add", args=[pk]),
        reverse("realms:service_accounts"),
        reverse("realms:service_account", args=[account.pk]),
        reverse("realms:create_token", args=[account.pk]),
    ]
    for url in urls:
        assert_ok(admin_client.get(url), url)

    detail = assert_ok(admin_client.get(reverse("realms:service_account", args=[account.pk])))
    assert token.masked in detail


def test_connect_okta_then_rotate_with_the_old_token_retired_later(admin_client, world):
    """Connect Okta names its token after the local day and retires the old one at a time: both in naive time."""
    realm = world["realm"]
    url = reverse("realms:connect_okta", args=[realm.pk])
    first = admin_client.post(url, {"action": "connect"})
    assert first.status_code == 302
    assert_ok(admin_client.get(first["Location"]))
    rotated = admin_client.post(url, {"action": "rotate", "retire_after_days": "7"})
    assert rotated.status_code == 302
    page = assert_ok(admin_client.get(rotated["Location"]))
    assert "stops working in 7 days" in page
    old = world["token"]  # was to expire in 30 days: now in 7, and still works meanwhile
    old.refresh_from_db()
    assert abs(old.expires_at - (timezone.now() + datetime.timedelta(days=7))) < datetime.timedelta(minutes=1)
    assert old.status == "active"
    assert APIToken.objects.filter(realm=realm).active().count() == 2


def test_role_pages_add_and_remove_a_mapping(admin_client, world):
    """A mapping added on the realm's page grants its role to the linked console user (audited, timestamped), and
    its removal revokes it: the pages that list them show the times."""
    realm, group, link = world["realm"], world["group"], world["link"]
    role = Group.objects.create(name="Admins")
    added = admin_client.post(
        reverse("realms:role_mapping_add", args=[realm.pk]), {"realm_group": group.pk, "roles": [role.pk]}
    )
    assert added.status_code == 302, added.content[:3000]
    link.console_user.refresh_from_db()
    assert link.console_user.groups.filter(pk=role.pk).exists()
    page = assert_ok(admin_client.get(reverse("realms:role_mappings", args=[realm.pk])))
    assert "Admins" in page and "<time datetime=" in page
    mapping = RealmGroupRoleMapping.objects.get(role=role)
    removed = admin_client.post(reverse("realms:role_mapping_delete", args=[realm.pk, mapping.pk]))
    assert removed.status_code == 302
    assert not link.console_user.groups.filter(pk=role.pk).exists()
    assert_ok(admin_client.get(reverse("realms:activity")))


def test_token_issued_and_revoked_on_the_console(admin_client, world):
    account = world["account"]
    expires = (timezone.now() + datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    response = admin_client.post(
        reverse("realms:create_token", args=[account.pk]), {"name": "Second", "expires_at": expires}
    )
    assert response.status_code == 302, response.content[:3000]
    shown = assert_ok(admin_client.get(response["Location"]))
    token = APIToken.objects.get(name="Second")
    # The expiry typed in the host's zone is the one kept and shown.
    assert token.expires_at.strftime("%Y-%m-%dT%H:%M") == expires
    assert token.expires_at.strftime("%Y-%m-%d %H:%M") in shown
    revoked = admin_client.post(reverse("realms:revoke_token", args=[token.pk]))
    assert revoked.status_code == 302
    token.refresh_from_db()
    assert token.status == "revoked"


# -------------------------------------------------------------------------------------------------------- admin


def test_service_account_admin_shows_a_used_token_and_the_issue_button(admin_client, world):
    """The field that silently showed "-" and lost its button once a token had been used."""
    account, token, secret = world["account"], world["token"], world["secret"]
    assert account_services.authenticate_token(secret) is not None  # used: last_used_at is set
    token.refresh_from_db()
    assert token.last_used_at is not None
    page = assert_ok(admin_client.get(admin_url(ServiceAccount, "change", account)))
    assert token.masked in page
    assert "Issue an API token" in page
    # The naive value is the host's local time already: shown as Django formats it, not "never", not "-".
    assert f"last used {date_format(token.last_used_at, 'DATETIME_FORMAT')}" in page
    assert f"expires {date_format(token.expires_at, 'DATETIME_FORMAT')}" in page


@pytest.mark.parametrize("page", ["changelist", "change"])
@pytest.mark.parametrize("model", registered_models(), ids=label)
def test_every_admin_changelist_and_change_page_opens(admin_client, world, model, page):
    assert account_services.authenticate_token(world["secret"]) is not None
    AuditEvent.objects.create(
        realm=world["realm"],
        action=AuditEvent.Action.USER_CREATED,
        resource_type="User",
        resource_id=str(world["realm_user"].pk),
        resource_repr="jane@example.com",
    )
    objects = {
        "realms.realm": world["realm"],
        "realms.realmuser": world["realm_user"],
        "realms.realmgroup": world["group"],
        "realms.consoleuserlink": world["link"],
        "realms.realmgrouprolemapping": world["mapping"],
        "realms.auditevent": AuditEvent.objects.first(),
        "realms.serviceaccount": world["account"],
        "realms.apitoken": world["token"],
    }
    url = admin_url(model, page, objects[label(model)] if page == "change" else None)
    assert_ok(admin_client.get(url), url)


def test_token_issued_in_the_admin_with_an_expiry(admin_client, world):
    account = world["account"]
    later = timezone.now() + datetime.timedelta(days=3)
    response = admin_client.post(
        admin_url(APIToken, "add"),
        {
            "user": account.user_id,
            "name": "From the admin",
            "expires_at_0": later.strftime("%Y-%m-%d"),
            "expires_at_1": later.strftime("%H:%M:%S"),
            "realm": "",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    assert_ok(admin_client.get(response["Location"]))
    token = APIToken.objects.get(name="From the admin")
    assert token.status == "active"
    page = assert_ok(admin_client.get(admin_url(ServiceAccount, "change", account)))
    assert token.masked in page


# ----------------------------------------------------------------------------------------------------- commands


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_commands(db):
    realm = json.loads(run("create_realm", "--name", "Okta", "--scim", "--json"))
    assert realm["scim_enabled"] is True
    account = json.loads(run("create_service_account", "robot", "--json"))
    assert account["token"].startswith("zrlm_")
    first = json.loads(run("scim_quickstart", "--realm", "Okta", "--json"))
    assert account_services.authenticate_token(first["token"]) is not None
    again = run("scim_quickstart", "--realm", "Okta")
    assert "1 earlier token of this realm still works" in again


# -------------------------------------------------------------------------------------------------- SAML sign-in


def test_saml_sign_in_session_and_its_end_by_a_scim_deactivation(db, client, tmp_path):
    """The assertion remembered until it expires, the session's absolute expiry, the roles' session index: all
    datetimes the sign-in writes, in naive time; then SCIM deactivates the user and the session ends."""
    realm = make_saml_realm(login_session_expiry=600)
    idp = install_idp(client, realm, make_key_pair(tmp_path, "okta-idp"))
    response = sign_in(client, realm, idp, "jane@example.com", next_url="/realms/")
    assert response.status_code == 302 and response["Location"] == "/realms/", response.content[:2000]
    assert client.session.get("_auth_user_id")
    assert 540 < client.session.get_expiry_age() <= 600
    remembered = SAMLConsumedAssertion.objects.get(realm=realm)
    assert remembered.expires_at > timezone.now()
    assert RealmLoginSession.objects.filter(realm=realm).count() == 1

    scim = SCIMClient(client, realm, scim_token())
    user_id = scim.get('/Users?filter=userName eq "jane@example.com"').json()["Resources"][0]["id"]
    deactivated = scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": False}}))
    assert deactivated.status_code == 200
    assert not RealmLoginSession.objects.filter(realm=realm).exists()
    assert client.get("/realms/").status_code == 302  # signed out: sent to the login page


def test_management_api_renders_and_takes_datetimes_in_utc(client, world):
    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(superuser)
    realm = client.get(f"/api/realms/{world['realm'].pk}/").json()
    assert realm["created_at"].endswith("Z")
    assert_recent(datetime.datetime.fromisoformat(realm["created_at"]))
    tokens = client.get("/api/service-accounts/okta-scim/tokens/").json()["results"]
    used = next(token for token in tokens if token["id"] == world["token"].pk)
    assert used["expires_at"].endswith("Z")
    # An expiry given in UTC is stored as the host stores it (naive, in its zone) and read back the same.
    expiry = (utc_now() + datetime.timedelta(days=3)).replace(microsecond=0)
    issued = client.post(
        "/api/service-accounts/okta-scim/tokens/",
        {"name": "CI", "expires_at": expiry.isoformat().replace("+00:00", "Z")},
        content_type="application/json",
    )
    assert issued.status_code == 201, issued.content
    assert issued.json()["expires_at"] == expiry.isoformat().replace("+00:00", "Z")
    stored = APIToken.objects.get(pk=issued.json()["id"]).expires_at
    assert timezone.is_naive(stored)
    assert stored == expiry.astimezone(zoneinfo.ZoneInfo(ZONE)).replace(tzinfo=None)


@pytest.mark.django_db(transaction=True)  # the feed serves committed changes only (on PostgreSQL: below the horizon)
def test_change_feed_renders_times_in_utc_and_filters_by_time(scim, world):
    token = scim_token()  # the SCIM permissions include realms.view_realmuser
    scim.post("/Users", okta_user("ann@example.com"))
    before = utc_now()
    url = f"/api/realms/{world['realm'].pk}/events/"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    events = scim.client.get(url, **auth).json()["results"]
    assert events and all(event["time"].endswith("Z") for event in events)
    assert_recent(datetime.datetime.fromisoformat(events[-1]["time"]))
    later = scim.client.get(url, {"after": before.isoformat().replace("+00:00", "Z")}, **auth).json()["results"]
    assert later == []  # every event was recorded before `before`, whatever the zone they are stored in
    scim.post("/Users", okta_user("bob@example.com"))
    later = scim.client.get(url, {"after": before.isoformat().replace("+00:00", "Z")}, **auth).json()["results"]
    assert [event["type"] for event in later] == ["user.created"]
