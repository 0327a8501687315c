"""The console on a phone (390 px wide): no page scrolls sideways, lists are cards (or scroll inside their own box),
and the SCIM root URL wraps at its slashes and still copies whole."""

from __future__ import annotations

from realms.services import SCIM_PERMISSION_CODENAMES
from realms.services import accounts as account_services

from ..factories import GroupFactory, RealmFactory, ServiceAccountFactory
from ..scim.conftest import okta_user

PHONE = {"width": 390, "height": 844}


def test_the_narrow_layout(tab, admin_user, api):
    realm = RealmFactory(name="Okta", scim_enabled=True)
    group = GroupFactory(name="SCIM", permissions=[f"realms.{c}" for c in SCIM_PERMISSION_CODENAMES])
    okta = api(account_services.issue_token(ServiceAccountFactory(groups=[group]), name="Okta").secret)
    root = f"/api/realms/{realm.pk}/scim/v2"
    for n in range(3):
        okta.post(f"{root}/Users", data=okta_user(f"someone.with.a.long.name{n}@example.com"))
    okta.post(f"{root}/Users", data=okta_user("SOMEONE.with.a.long.name0@example.com"))  # a failure to list
    page = tab.page
    page.set_viewport_size(PHONE)
    tab.login("admin")

    for path in (
        f"/realms/{realm.pk}/",
        f"/realms/{realm.pk}/users/",
        f"/realms/{realm.pk}/scim-requests/",
        "/realms/activity/",
        "/realms/service-accounts/",
    ):
        tab.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways: {width} px"
        for box in page.locator(".table-wrap").all():
            # Each table fits its box or scrolls inside it; the box itself never overflows the page.
            assert box.evaluate("b => b.getBoundingClientRect().right") <= PHONE["width"]

    tab.goto(f"/realms/{realm.pk}/users/")
    wrap = page.locator(".table-wrap").first
    assert wrap.evaluate("b => b.scrollWidth <= b.clientWidth")  # the users list is cards: nothing to scroll
    tab.screenshot("11-narrow-users")

    tab.goto(f"/realms/{realm.pk}/")
    url = page.locator("#scim-root-url")
    box = url.bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"] and box["height"] > 20  # wrapped onto lines, inside the page
    assert url.inner_text() == tab.url(f"/api/realms/{realm.pk}/scim/v2")  # the same text, whole
    assert url.evaluate("e => e.querySelectorAll('wbr').length") >= 5  # breaks offered at the slashes
    tab.screenshot("12-narrow-realm", full_page=False)
