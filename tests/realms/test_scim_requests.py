"""The SCIM requests page of a realm: every failed request Okta made, filterable and paginated, and requests to a
realm whose SCIM switch is off recorded as such, without their bodies."""

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from realms.models import Realm
from scim.models import RealmSCIMStatus, SCIMRequestError

from ..factories import RealmFactory, UserFactory
from ..scim.conftest import SCIMClient, okta_user, scim_token


@pytest.fixture
def realm(db):
    return RealmFactory(name="Okta", scim_enabled=True)


@pytest.fixture
def scim(realm) -> SCIMClient:
    return SCIMClient(Client(), realm, scim_token())


def shown_requests(page: str) -> list[tuple[str, str]]:
    table = page[page.index('id="scim-requests"') :] if 'id="scim-requests"' in page else ""
    row = (
        r'<tr class="scim-error" data-status="(\d+)">.*?<td class="mono request">([^<]+)'
        r'(?:<span class="query">[^<]*</span>)?</td>'
    )
    return re.findall(row, table, re.S)


def test_failed_requests_are_listed_with_what_the_server_answered(admin_client, realm, scim):
    assert scim.post("/Users", okta_user("jane@example.com")).status_code == 201
    assert scim.post("/Users", okta_user("JANE@example.com")).status_code == 409
    assert scim.get("/Users", token="zrlm_" + "A" * 38).status_code == 401
    assert scim.get("/Groups?filter=displayName%20zz%20%22x%22").status_code == 400

    realm_page = admin_client.get(f"/realms/{realm.pk}/").content.decode()
    link = re.search(r'id="scim-errors-24h"><a class="badge err" href="([^"]+)">3<', realm_page).group(1)
    assert link.startswith(f"/realms/{realm.pk}/scim-requests/?since=")
    last_success = re.search(r'id="scim-last-success">(.*?)</td>', realm_page, re.S).group(1)
    assert "POST /Users" in last_success and "svc" in last_success

    page = admin_client.get(link).content.decode()
    assert shown_requests(page) == [("400", "GET /Groups"), ("401", "GET /Users"), ("409", "POST /Users")]
    assert "uniqueness" in page and "already exists" in page  # scimType and detail of the 409
    assert "Invalid token" in page and "invalidFilter" in page
    assert re.search(r"svc\d+ <span class=\"muted mono small\">token …" + scim.token[-4:], page)
    assert "zrlm_" not in page


def test_filters_status_method_resource_and_time(admin_client, realm, scim):
    scim.get("/Users/nobody")  # 404 GET Users
    scim.post("/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"]})  # 400 POST Groups
    scim.get("/Schemas/urn:nothing")  # 404 GET discovery
    assert scim.post("/Bulk", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"]}).status_code == 501
    old = SCIMRequestError.objects.create(
        realm=realm, created_at=timezone.now() - datetime.timedelta(days=3), method="GET", path="/Users", status=401
    )
    url = f"/realms/{realm.pk}/scim-requests/"

    def shown(**params) -> list[tuple[str, str]]:
        response = admin_client.get(url, params)
        assert response.status_code == 200
        return shown_requests(response.content.decode())

    assert len(shown()) == 5
    assert shown(status="404") == [("404", "GET /Schemas/urn:nothing"), ("404", "GET /Users/nobody")]
    assert shown(status="5xx") == [("501", "POST /Bulk")]
    assert shown(method="POST") == [("501", "POST /Bulk"), ("400", "POST /Groups")]
    assert shown(resource="Users") == [("404", "GET /Users/nobody"), ("401", "GET /Users")]
    assert shown(resource="discovery") == [("404", "GET /Schemas/urn:nothing")]
    assert shown(resource="other") == [("501", "POST /Bulk")]
    since = timezone.localtime(timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert ("401", "GET /Users") not in shown(since=since) and len(shown(since=since)) == 4
    assert shown(until=since) == [("401", "GET /Users")]
    assert "No failed request matches" in admin_client.get(url, {"method": "DELETE"}).content.decode()
    assert old.pk


def test_requests_to_a_realm_with_scim_off_are_recorded_as_such_without_their_body(admin_client, realm, scim):
    Realm.objects.filter(pk=realm.pk).update(scim_enabled=False)
    body = okta_user("jane@example.com")
    body["password"] = "Sup3r-s3cret-passw0rd"
    response = scim.post("/Users", body)
    assert response.status_code == 404
    error = SCIMRequestError.objects.get()
    assert not error.scim_enabled and error.status == 404 and error.path == "/Users"
    assert error.actor_username.startswith("svc")  # the token is good: the switch is the problem
    stored = " ".join(str(v) for v in SCIMRequestError.objects.values().get().values())
    stored += " ".join(str(v) for v in RealmSCIMStatus.objects.values().get().values())
    assert "Sup3r" not in stored and "jane@example.com" not in stored and scim.token[5:-6] not in stored

    page = admin_client.get(f"/realms/{realm.pk}/scim-requests/").content.decode()
    assert "SCIM off" in page and "SCIM is off for this realm" in page
    assert shown_requests(admin_client.get(f"/realms/{realm.pk}/scim-requests/", {"scim": "off"}).content.decode())
    assert not shown_requests(admin_client.get(f"/realms/{realm.pk}/scim-requests/", {"scim": "on"}).content.decode())
    assert "SCIM off" in admin_client.get(f"/realms/{realm.pk}/").content.decode()


def test_pages_with_numbers_and_an_out_of_range_page_shows_the_last(admin_client, realm):
    now = timezone.now()
    SCIMRequestError.objects.bulk_create(
        SCIMRequestError(
            realm=realm, created_at=now - datetime.timedelta(minutes=i), method="GET", path=f"/Users/{i}", status=404
        )
        for i in range(120)
    )
    url = f"/realms/{realm.pk}/scim-requests/"
    first = admin_client.get(url).content.decode()
    assert len(shown_requests(first)) == 50 and "Page 1 of 3" in first
    assert 'href="?page=3"' in first and "Last »" in first and 'aria-current="page">1<' in first
    last = admin_client.get(url, {"page": "99"})
    assert last.status_code == 200
    assert "Page 3 of 3" in last.content.decode() and len(shown_requests(last.content.decode())) == 20
    assert "Page 1 of 3" in admin_client.get(url, {"page": "x"}).content.decode()
    assert "Page 3 of 3" in admin_client.get(url, {"page": "last"}).content.decode()
    filtered = admin_client.get(url, {"page": "2", "method": "GET"}).content.decode()
    assert 'href="?page=3&amp;method=GET"' in filtered


def test_the_page_needs_the_permission_to_read_the_request_log(client, realm):
    client.force_login(UserFactory(username="viewer", permissions=["realms.view_realm"]))
    assert client.get(f"/realms/{realm.pk}/scim-requests/").status_code == 403
    assert "scim-requests-link" not in client.get(f"/realms/{realm.pk}/").content.decode()
    client.force_login(UserFactory(username="reader", permissions=["realms.view_realm", "scim.view_scimrequesterror"]))
    assert client.get(f"/realms/{realm.pk}/scim-requests/").status_code == 200
    assert "scim-requests-link" in client.get(f"/realms/{realm.pk}/").content.decode()


def test_the_failed_request_is_shown_whole_with_secrets_redacted(admin_client, realm, scim):
    token = scim.token
    assert scim.get('/Users?filter=userName zz "jane"&startIndex=1&count=100').status_code == 400
    assert scim.get(f"/Users/nobody?access_token={token}&attributes=userName").status_code == 404
    assert scim.get(f'/Users?filter=password eq "hunter2" and userName eq "{token}"').status_code == 400
    page = admin_client.get(f"/realms/{realm.pk}/scim-requests/").content.decode()
    queries = re.findall(r'<span class="query">\?([^<]*)</span>', page)
    assert queries == [
        "filter=password eq &quot;[redacted]&quot; and userName eq &quot;[redacted]&quot;",
        "access_token=[redacted]&amp;attributes=userName",
        "filter=userName zz &quot;jane&quot;&amp;startIndex=1&amp;count=100",
    ]
    assert token not in page and token[5:] not in page and "hunter2" not in page
    assert "shown with secrets redacted" in page
    for error in SCIMRequestError.objects.all():
        assert token[5:] not in f"{error.query} {error.detail}" and "hunter2" not in f"{error.query} {error.detail}"


def test_a_conflict_names_the_existing_username_in_its_own_letter_case(realm, scim):
    assert scim.post("/Users", okta_user("alice.martin@example.com")).status_code == 201
    response = scim.post("/Users", okta_user("ALICE.MARTIN@example.com"))
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "userName 'alice.martin@example.com' already exists" in detail
    assert "'ALICE.MARTIN@example.com' was sent" in detail
    # A rename onto a taken name, and a group, the same.
    bob = scim.post("/Users", okta_user("bob@example.com")).json()
    renamed = scim.put(f"/Users/{bob['id']}", {**okta_user("Alice.Martin@example.com"), "id": bob["id"]})
    assert (
        renamed.status_code == 409 and "userName 'alice.martin@example.com' already exists" in renamed.json()["detail"]
    )
    group = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Engineering"}
    assert scim.post("/Groups", group).status_code == 201
    taken = scim.post("/Groups", {**group, "displayName": "ENGINEERING"})
    assert taken.status_code == 409 and "displayName 'Engineering' already exists" in taken.json()["detail"]
    # Sent in the same case: named once.
    again = scim.post("/Users", okta_user("alice.martin@example.com", external_id="00u-other")).json()["detail"]
    assert again == "A user with userName 'alice.martin@example.com' already exists in this realm."
