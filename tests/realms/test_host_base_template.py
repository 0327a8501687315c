"""The new console pages inside a host that overrides realms/base.html and has no URL of its own but the two
includes and the admin (no `home`, `login` or `logout`): they render with the host's layout, naming only the
app's own URLs."""

import re
from pathlib import Path

import pytest
from django.test import Client

from realms.models import APIToken
from scim.models import SCIMRequestError

from ..factories import RealmFactory, ServiceAccountFactory
from ..scim.conftest import SCIMClient, okta_user

HOST = Path(__file__).parent / "host_override"


@pytest.fixture
def host(settings):
    settings.ROOT_URLCONF = "tests.realms.host_override.urls"
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [HOST / "templates"]},
    ]
    settings.LOGIN_URL = "/admin/login/"


def test_connect_okta_requests_tokens_and_history_in_a_hosts_layout(host, admin_client):
    realm = RealmFactory(name="Okta", scim_enabled=False)
    response = admin_client.post(f"/realms/{realm.pk}/connect-okta/")
    assert response.status_code == 302
    page = admin_client.get(response["Location"].split("#")[0]).content.decode()
    assert 'id="host-menu"' in page and "Okta connection ready" in page
    secret = re.search(r'id="api-token"[^>]*>(zrlm_[0-9A-Za-z]+)<', page).group(1)

    okta = SCIMClient(Client(), realm, secret)
    user = okta.post("/Users", okta_user("jane@example.com")).json()
    assert okta.post("/Users", okta_user("JANE@example.com")).status_code == 409
    assert SCIMRequestError.objects.count() == 1

    account = ServiceAccountFactory(username="other").realms_service_account
    issued = admin_client.post(f"/realms/service-accounts/{account.pk}/tokens/create/", {"name": "x"})
    token = APIToken.objects.get(user=account.user)
    for path in (
        f"/realms/{realm.pk}/",
        f"/realms/{realm.pk}/scim-requests/",
        f"/realms/{realm.pk}/users/?q=JANE",
        f"/realms/{realm.pk}/users/{user['id']}/",
        f"/realms/{realm.pk}/roles/add/",
        "/realms/activity/",
        f"/realms/service-accounts/{account.pk}/",
        issued["Location"],
        f"/realms/tokens/{token.pk}/issued/",
    ):
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert 'class="host-layout"' in response.content.decode(), path
    # The admin's token page is the admin's own layout, and shows the token once there too.
    response = admin_client.post("/admin/realms/apitoken/add/", {"user": account.user_id, "name": "y"})
    assert "zrlm_" in admin_client.get(response["Location"]).content.decode()
