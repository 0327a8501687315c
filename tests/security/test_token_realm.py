"""A token issued for one realm gets 404 on every other realm, for every verb, like a realm that does not exist."""

import json
import re

from realms.models import RealmUser
from realms.services import accounts as account_services

from ..factories import RealmFactory, RealmUserFactory, ServiceAccountFactory
from ..scim.conftest import SCIMClient, assert_scim_error, okta_user, patch_op


def test_realm_restricted_token(client, scim_group):
    home, other = RealmFactory(name="Home"), RealmFactory(name="Other")
    stranger = RealmUserFactory(realm=other)
    account = ServiceAccountFactory(groups=[scim_group])
    secret = account_services.issue_token(account, name="home only", realm=home).secret
    at_home = SCIMClient(client, home, secret)
    assert at_home.get("/Users").status_code == 200
    assert at_home.post("/Users", okta_user("a@example.com")).status_code == 201
    elsewhere = SCIMClient(client, other, secret)
    for response in (
        elsewhere.get("/Users"),
        elsewhere.get("/ServiceProviderConfig"),
        elsewhere.post("/Users", okta_user("b@example.com")),
        elsewhere.get(f"/Users/{stranger.pk}"),
        elsewhere.put(f"/Users/{stranger.pk}", okta_user("c@example.com")),
        elsewhere.patch(f"/Users/{stranger.pk}", patch_op({"op": "replace", "value": {"active": False}})),
        elsewhere.delete(f"/Users/{stranger.pk}"),
    ):
        assert_scim_error(response, 404)
    assert RealmUser.objects.filter(realm=other).count() == 1 and RealmUser.objects.get(pk=stranger.pk).active
    # An unrestricted token of the same account works on both.
    everywhere = account_services.issue_token(account, name="all").secret
    assert SCIMClient(client, other, everywhere).get("/Users").status_code == 200


def test_console_issues_a_realm_restricted_token(admin_client, scim_group):
    home, other = RealmFactory(name="Home"), RealmFactory(name="Other")
    account = ServiceAccountFactory(groups=[scim_group])
    response = admin_client.post(
        f"/realms/service-accounts/{account.realms_service_account.pk}/tokens/create/",
        {"name": "Okta", "realm": str(home.pk)},
        follow=True,
    )
    assert response.status_code == 200
    secret = re.search(r'id="api-token"[^>]*>(zrlm_[0-9A-Za-z]+)<', response.content.decode()).group(1)
    assert SCIMClient(admin_client, home, secret).get("/Users").status_code == 200
    assert SCIMClient(admin_client, other, secret).get("/Users").status_code == 404


def test_quickstart_token_is_restricted_to_its_realm(client, db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("scim_quickstart", "--realm", "Okta", "--json", stdout=out)
    data = json.loads(out.getvalue())
    other = RealmFactory(name="Other")
    home = RealmFactory._meta.model.objects.get(pk=data["realm_uuid"])
    assert SCIMClient(client, home, data["token"]).get("/Users").status_code == 200
    assert SCIMClient(client, other, data["token"]).get("/Users").status_code == 404


def test_a_refused_call_shows_nothing_of_the_row_its_url_named(client, scim_group):
    """A GET by id and an IdP's lookup name their row in the URL, and on PostgreSQL the token's own statement reads
    it (realms.sql.queries.Read). A token that may not see it (restricted to another realm, revoked, without the view
    permission, or a realm with SCIM off) gets its error and nothing of the row: not its id, not its userName."""
    from django.contrib.auth.models import Group

    home, other = RealmFactory(name="Home"), RealmFactory(name="Other")
    off = RealmFactory(name="Off", scim_enabled=False)
    secrets = {}
    for realm in (other, off):
        user = RealmUserFactory(realm=realm, username=f"secret.person@{realm.name.lower()}.example", external_id="00uX")
        secrets[realm.pk] = (str(user.pk), user.username)
    account = ServiceAccountFactory(groups=[scim_group])
    restricted = account_services.issue_token(account, name="home only", realm=home).secret
    revoked = account_services.issue_token(account, name="revoked")
    account_services.revoke_token(revoked.token)
    writer_only = Group.objects.create(name="no view")
    writer_only.permissions.set(scim_group.permissions.exclude(codename__startswith="view_"))
    blind = account_services.issue_token(ServiceAccountFactory(groups=[writer_only]), name="blind").secret
    everywhere = account_services.issue_token(account, name="all realms").secret
    cases = [(other, restricted, 404), (other, revoked.secret, 401), (other, blind, 403), (off, everywhere, 404)]
    for realm, secret, status in cases:
        pk, username = secrets[realm.pk]
        scim = SCIMClient(client, realm, secret)
        for path in (f"/Users/{pk}", f'/Users?filter=userName eq "{username}"', '/Users?filter=externalId eq "00uX"'):
            response = scim.get(path)
            assert_scim_error(response, status)
            body = response.content.decode()
            assert username not in body and "00uX" not in body and (pk not in body or pk in path), (path, body)
