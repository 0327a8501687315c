"""What an admin does in the console, in a real browser: each flow ends with a screenshot under
test-artifacts/screenshots/ (the best ones illustrate docs/okta-scim.md)."""

from __future__ import annotations

import re

from realms.models import APIToken, Realm, RealmUser, ServiceAccount
from realms.services import SCIM_PERMISSION_CODENAMES
from realms.services import accounts as account_services
from realms.tokens import hash_token

from ..factories import GroupFactory, RealmFactory, ServiceAccountFactory


def scim_group():
    return GroupFactory(name="SCIM provisioning", permissions=[f"realms.{c}" for c in SCIM_PERMISSION_CODENAMES])


def test_login_create_okta_realm_and_copy_the_scim_root_url(tab, admin_user):
    page = tab.page
    tab.goto("/realms/")
    assert "/login/" in page.url  # the console needs a login
    tab.login("admin")
    page.get_by_role("link", name="Realms", exact=True).click()
    page.wait_for_url(tab.url("/realms/"))
    page.get_by_role("link", name="Create Okta realm").click()
    page.fill("#id_name", "Okta")
    page.check("#id_scim_enabled")
    page.click("button:has-text('Save')")

    page.wait_for_selector("#scim-root-url")
    realm = Realm.objects.get(name="Okta")
    assert page.url == tab.url(f"/realms/{realm.pk}/")
    assert page.inner_text(".messages") == "Realm Okta created."
    root_url = page.inner_text("#scim-root-url")
    assert root_url == tab.url(f"/api/realms/{realm.pk}/scim/v2")
    assert "none yet" in page.inner_text("#scim-last-request")
    assert page.locator(".breadcrumbs a").all_inner_texts() == ["Home", "Realms"]
    assert page.locator(".breadcrumbs > span:not(.sep)").inner_text() == "Okta"
    copy = page.locator("button[data-copy-target=scim-root-url]")
    copy.click()
    page.wait_for_function("document.querySelector('[data-copy-target=scim-root-url]').textContent !== 'Copy'")
    assert copy.inner_text() in {"Copied", "Press Ctrl+C"}
    tab.screenshot("01-realm-detail-scim-root-url")


def test_service_account_and_token_in_django_admin_token_shown_once(tab, admin_user, api):
    scim_group()
    realm = RealmFactory(name="Okta", scim_enabled=True)
    page = tab.page
    tab.login("admin")
    tab.goto("/admin/realms/serviceaccount/add/")
    page.fill("#id_username", "okta-scim")
    page.fill("#id_description", "Okta provisioning")
    page.get_by_label("SCIM provisioning", exact=True).check()
    page.click("input[name=_continue]")
    page.click("text=Issue an API token")
    page.fill("#id_name", "Okta provisioning")
    page.click("input[name=_save]")

    secret = page.inner_text("#api-token").strip()
    assert re.fullmatch(r"zrlm_[0-9A-Za-z]{38}", secret)
    assert "shown only once" in page.content()
    tab.screenshot("02-admin-token-issued", mask=("#api-token",))
    token = APIToken.objects.get(user__username="okta-scim")
    assert token.key_hash == hash_token(secret)  # only the hash is kept
    assert page.url == tab.url(f"/admin/realms/apitoken/{token.pk}/issued/")
    page.reload()  # never a second token, never the secret again
    assert page.locator("#token-already-shown").count() == 1 and secret not in page.content()
    assert APIToken.objects.count() == 1

    # The token works over SCIM, and is never shown again: not in the admin, not in the console.
    response = api(secret).get(f"/api/realms/{realm.pk}/scim/v2/Users?startIndex=1&count=2")
    assert response.status == 200 and response.json()["totalResults"] == 0
    account_pk = token.user.realms_service_account.pk
    for path in (
        f"/admin/realms/apitoken/{token.pk}/change/",
        f"/admin/realms/serviceaccount/{account_pk}/change/",
        f"/realms/service-accounts/{account_pk}/",
    ):
        tab.goto(path)
        assert secret not in page.content()
    assert page.inner_text("#api-tokens .token-last-used") != "never"  # the SCIM call above used it


def test_service_account_console_issue_copy_and_revoke_a_token(tab, admin_user, api):
    scim_group()
    page = tab.page
    tab.login("admin")
    with page.expect_navigation():  # the home page has an .empty notice of its own
        page.click("header >> text=Service accounts")
    assert "No service account yet" in page.inner_text(".empty")
    page.click("text=Create service account")
    page.fill("#id_username", "okta-scim")
    page.check("text=SCIM provisioning")
    page.click("button:has-text('Create')")
    page.click("text=Issue API token")
    page.fill("#id_name", "Okta provisioning")
    page.fill("#id_expires_at", "2099-01-01T00:00")
    page.click("button:has-text('Issue token')")
    secret = page.inner_text("#api-token").strip()
    page.click("button[data-copy-target=api-token]")
    tab.screenshot("07-console-token-issued", mask=("#api-token",))
    page.click("text=Done")
    row = page.locator("#api-tokens tr", has_text="Okta provisioning")
    assert "active" in row.inner_text() and "2099" in row.inner_text() and secret not in page.content()
    assert api(secret).get("/api/whoami", headers={"Accept": "application/json"}).status == 200
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button:has-text('Revoke')").click()
    page.wait_for_selector(".messages")
    assert "revoked" in page.locator("#api-tokens tr", has_text="Okta provisioning").inner_text()
    assert api(secret).get("/api/whoami", headers={"Accept": "application/json"}).status == 401


def _push(client, path: str, body: dict) -> dict:
    response = client.post(path, data=body)
    assert response.status == 201, response.text()
    return response.json()


def test_scim_push_then_search_filter_and_deactivation_audit_trail(tab, admin_user, api):
    realm = RealmFactory(name="Okta", scim_enabled=True)
    account = ServiceAccountFactory(username="okta-scim", groups=[scim_group()])
    scim = api(account_services.issue_token(account, name="Okta provisioning").secret)
    root = f"/api/realms/{realm.pk}/scim/v2"
    people = [
        ("jane.doe@example.com", "Jane", "Doe", "Engineering"),
        ("john.smith@example.com", "John", "Smith", "Engineering"),
        ("ada.lovelace@example.com", "Ada", "Lovelace", "Research"),
        ("alan.turing@example.com", "Alan", "Turing", "Research"),
    ]
    ids = {}
    for username, given, family, department in people:
        user = _push(
            scim,
            f"{root}/Users",
            {
                "schemas": [
                    "urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                ],
                "userName": username,
                "name": {"givenName": given, "familyName": family},
                "emails": [{"primary": True, "value": username, "type": "work"}],
                "displayName": f"{given} {family}",
                "locale": "en-US",
                "externalId": f"00u{family.lower()}",
                "active": True,
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": department},
            },
        )
        ids[username] = user["id"]
    engineering = _push(
        scim,
        f"{root}/Groups",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Engineering",
            "members": [{"value": ids["jane.doe@example.com"]}, {"value": ids["john.smith@example.com"]}],
        },
    )
    _push(
        scim, f"{root}/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Research"}
    )
    # Okta (OIN app) deactivates John: a path-less PATCH with an object value.
    response = scim.patch(
        f"{root}/Users/{ids['john.smith@example.com']}",
        data={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": False}}],
        },
    )
    assert response.status == 200 and response.json()["active"] is False
    # A mistyped token: Okta's connector test would fail; the realm's page shows it.
    assert api("zrlm_" + "x" * 38).get(f"{root}/Users").status == 401

    page = tab.page
    tab.login("admin")
    tab.goto(f"/realms/{realm.pk}/")
    assert page.inner_text("#scim-user-count").split()[0] == "4"
    assert "3 active" in page.inner_text("#scim-user-count")
    assert page.inner_text("#scim-group-count") == "2"
    assert page.inner_text("#scim-errors-24h") == "1"
    assert "401" in page.inner_text("#scim-last-request")
    assert "Invalid token" in page.inner_text("#scim-recent-errors")
    tab.screenshot("03-realm-scim-status", full_page=True)

    # Search and filters on the realm's users.
    page.click("#scim-user-count a >> nth=0")
    page.wait_for_url(tab.url(f"/realms/{realm.pk}/users/"))
    assert page.inner_text("#result-count") == "4 users"
    page.fill("input[name=q]", "lovelace")
    with page.expect_navigation():
        page.click("button:has-text('Apply')")
    assert "q=lovelace" in page.url
    assert page.locator("#realm-users tr").count() == 2 and "ada.lovelace@example.com" in page.inner_text(
        "#realm-users"
    )
    with page.expect_navigation():
        page.click("text=Clear")
    assert page.url == tab.url(f"/realms/{realm.pk}/users/")
    with page.expect_navigation():
        page.select_option("select[name=active]", "no")  # applied at once
    assert "active=no" in page.url
    assert page.inner_text("#result-count") == "1 user found"
    assert "john.smith@example.com" in page.inner_text("#realm-users")
    with page.expect_navigation():
        page.select_option("select[name=active]", "")
    with page.expect_navigation():
        page.select_option("select[name=group]", label="Engineering")
    assert re.search(r"group=[0-9a-f-]{36}", page.url)
    assert page.inner_text("#result-count") == "2 users found"
    tab.screenshot("04-realm-users-filtered")

    # The group and its members.
    tab.goto(f"/realms/{realm.pk}/groups/")
    assert re.search(r"Engineering\s.*\s2\s", page.inner_text("#realm-groups"))
    page.click("#realm-groups >> text=Engineering")
    page.wait_for_url(tab.url(f"/realms/{realm.pk}/groups/{engineering['id']}/"))
    assert page.inner_text("#member-count") == "2"

    # The deactivation's audit trail: on the user's page, then on the SCIM activity page.
    page.click("#members >> text=john.smith@example.com")
    assert page.inner_text("#user-status") == "inactive"
    deactivation = page.locator("#history tr.event[data-action='user.deactivated']")
    assert "okta-scim" in deactivation.inner_text()
    assert re.search(r"active\s+true\s+→\s+false", deactivation.inner_text())
    assert "Engineering" in page.inner_text("#attributes")  # the enterprise extension's department
    deactivation.scroll_into_view_if_needed()
    tab.screenshot("06-realm-user-history", full_page=True)
    page.click("header >> text=SCIM activity")
    page.wait_for_url(tab.url("/realms/activity/"))  # loaded, so console.js applies filters on change
    with page.expect_navigation():
        page.select_option("select[name=action]", "user.deactivated")
    assert "action=user.deactivated" in page.url
    events = page.locator("tr.event")
    assert events.count() == 1
    assert "john.smith@example.com" in events.inner_text() and "okta-scim" in events.inner_text()
    tab.screenshot("05-scim-activity-deactivation", full_page=True)
    assert RealmUser.objects.filter(realm=realm, active=False).count() == 1
    assert ServiceAccount.objects.count() == 1
