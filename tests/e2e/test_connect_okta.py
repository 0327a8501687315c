"""Day one in a real browser: an Okta admin connects Okta from an empty realm and gets a working token, shown once."""

from __future__ import annotations

import re

from realms.models import APIToken, ServiceAccount

from ..factories import RealmFactory


def test_connect_okta_from_an_empty_realm_to_a_working_token(tab, admin_user, api):
    realm = RealmFactory(name="Okta", scim_enabled=False)
    page = tab.page
    tab.login("admin")
    page.get_by_role("link", name="Realms", exact=True).click()
    page.wait_for_url(tab.url("/realms/"))
    page.locator("table.list").get_by_role("link", name="Okta").click()
    assert "SCIM is off" in page.inner_text("#connect-okta")
    page.click("#connect-okta-button")

    page.wait_for_selector("#api-token")
    assert page.url == tab.url(f"/realms/{realm.pk}/#connect-okta")
    secret = page.inner_text("#api-token").strip()
    assert re.fullmatch(r"zrlm_[0-9A-Za-z]{38}", secret)
    panel = page.locator("#connect-okta")
    rows = {
        row.locator("th").inner_text().strip(): row.locator("td").inner_text().strip()
        for row in panel.locator("table.okta-fields tr:not(.okta-head)").all()
    }
    assert rows["SCIM connector base URL"].startswith(tab.url(f"/api/realms/{realm.pk}/scim/v2"))
    assert "Okta cannot reach this URL" in rows["SCIM connector base URL"]  # the live server is on localhost
    assert rows["Unique identifier field for users"].startswith("userName")
    assert "Push Groups" in rows["Supported provisioning actions"]
    assert rows["Authentication Mode"] == "HTTP Header"
    for target in ("scim-root-url", "okta-unique-identifier", "api-token"):
        button = panel.locator(f"button[data-copy-target={target}]")
        button.click()
        page.wait_for_function(f"document.querySelector('[data-copy-target={target}]').textContent !== 'Copy'")
        assert button.inner_text() in {"Copied", "Press Ctrl+C"}
    page.set_viewport_size({"width": 1280, "height": 960})  # the whole panel, for docs/okta-scim.md
    page.evaluate("window.scrollTo(0, 0)")
    tab.screenshot("08-connect-okta", mask=("#api-token",))

    # Okta's "Test Connector Configuration": its two calls succeed with the token, on this realm only.
    okta = api(secret)
    assert okta.get(f"/api/realms/{realm.pk}/scim/v2/Users?startIndex=1&count=2").status == 200
    assert okta.get(f"/api/realms/{realm.pk}/scim/v2/Groups?startIndex=1&count=100").status == 200
    other = RealmFactory(name="Other", scim_enabled=True)
    assert okta.get(f"/api/realms/{other.pk}/scim/v2/Users").status == 404

    # A reload shows the token no more and mints none.
    page.reload()
    assert page.locator("#api-token").count() == 0 and secret not in page.content()
    connection = page.inner_text("#okta-connection")
    assert "1 active token restricted to this realm" in connection and "last used" in connection
    assert re.search(r"GET /(Users|Groups) 200 by scim-okta", page.inner_text("#scim-last-request"))
    assert APIToken.objects.count() == 1 and ServiceAccount.objects.get().username == "scim-okta"

    # Connecting again: a new token, and the old one stops working after the days chosen (Okta keeps working).
    assert page.locator("#connect-okta-button").count() == 0
    page.select_option("#retire-after-days", "2")
    page.click("#rotate-token-button")
    page.wait_for_selector("#api-token")
    new_secret = page.inner_text("#api-token").strip()
    assert new_secret != secret and "stops working in 2 days" in page.inner_text(".messages")
    assert page.locator("#okta-tokens li").count() == 2 and "stops working" in page.inner_text("#okta-tokens")
    assert okta.get(f"/api/realms/{realm.pk}/scim/v2/Users?startIndex=1&count=2").status == 200  # not yet
    assert api(new_secret).get(f"/api/realms/{realm.pk}/scim/v2/Users").status == 200


def test_console_token_reload_after_issuing_shows_it_no_more(tab, admin_user):
    from ..factories import ServiceAccountFactory

    account = ServiceAccountFactory(username="okta-scim").realms_service_account
    page = tab.page
    tab.login("admin")
    tab.goto(f"/realms/service-accounts/{account.pk}/")
    page.click("text=Issue API token")
    page.fill("#id_name", "Okta provisioning")
    page.click("button:has-text('Issue token')")
    secret = page.inner_text("#api-token").strip()
    assert page.url == tab.url(f"/realms/tokens/{APIToken.objects.get().pk}/issued/")
    page.reload()
    assert "cannot be shown again" in page.inner_text("#token-already-shown")
    assert secret not in page.content() and APIToken.objects.count() == 1
    page.go_back()  # the form page: going back never re-submits the POST
    assert APIToken.objects.count() == 1
