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
