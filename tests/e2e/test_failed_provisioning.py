"""A bad day in a real browser: Okta reports failed provisioning tasks, and the console shows why."""

from __future__ import annotations

from realms.models import Realm
from realms.services import SCIM_PERMISSION_CODENAMES
from realms.services import accounts as account_services

from ..factories import GroupFactory, RealmFactory, ServiceAccountFactory

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def test_a_failing_push_is_visible_on_the_scim_requests_page(tab, admin_user, api):
    realm = RealmFactory(name="Okta", scim_enabled=True)
    group = GroupFactory(name="SCIM", permissions=[f"realms.{c}" for c in SCIM_PERMISSION_CODENAMES])
    account = ServiceAccountFactory(username="okta-scim", groups=[group])
    okta = api(account_services.issue_token(account, name="Okta provisioning").secret)
    root = f"/api/realms/{realm.pk}/scim/v2"
    jane = {"schemas": [USER], "userName": "jane@example.com", "externalId": "00u1jane"}
    assert okta.post(f"{root}/Users", data=jane).status == 201
    # Okta pushes a second person with the same userName in another letter case: a failed task in Okta.
    assert okta.post(f"{root}/Users", data={**jane, "userName": "JANE@example.com", "externalId": "00u2"}).status == 409
    # Someone turned SCIM off: the next pushes fail, recorded as calls to a realm with SCIM off.
    Realm.objects.filter(pk=realm.pk).update(scim_enabled=False)
    assert okta.post(f"{root}/Users", data={**jane, "userName": "bob@example.com"}).status == 404

    page = tab.page
    tab.login("admin")
    tab.goto(f"/realms/{realm.pk}/")
    assert page.inner_text("#scim-errors-24h") == "2"
    assert "POST /Users" in page.inner_text("#scim-last-success")
    page.click("#scim-errors-24h a")
    page.wait_for_selector("#scim-requests")
    assert page.inner_text("#result-count") == "2 requests found"
    assert "SCIM is off for this realm" in page.inner_text("#scim-off-notice")
    rows = page.locator("#scim-requests tr.scim-error")
    assert rows.count() == 2
    scim_off, conflict = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "404" in scim_off and "SCIM off" in scim_off and "okta-scim" in scim_off
    assert "409" in conflict and "uniqueness" in conflict and "already exists" in conflict
    assert "token …" in conflict
    tab.screenshot("09-scim-requests", full_page=True)

    with page.expect_navigation():
        page.select_option("select[name=status]", "409")  # applied at once
    assert "status=409" in page.url and rows.count() == 1 and "uniqueness" in rows.first.inner_text()
    with page.expect_navigation():
        page.select_option("select[name=scim]", "off")
    assert page.locator("#scim-requests").count() == 0 and "No failed request matches" in page.inner_text(".empty")
    with page.expect_navigation():
        page.click("text=Clear")
    assert rows.count() == 2
