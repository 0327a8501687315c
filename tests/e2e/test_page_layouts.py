"""The pages an Okta admin opens, on a 390 px phone and a 1440 px desktop (issue 17): no page scrolls sideways,
nothing is cut (the nav, the breadcrumb, long names), and the columns that matter (status, error detail, active,
role) are on screen: lists become cards on a phone."""

from __future__ import annotations

import pytest

from realms.models import RealmGroupRoleMapping
from realms.services import SCIM_PERMISSION_CODENAMES
from realms.services import accounts as account_services

from ..factories import GroupFactory, RealmFactory, ServiceAccountFactory
from ..scim.conftest import okta_user

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def seed(api) -> dict:
    realm = RealmFactory(name="Okta Prod \u2013 Europe (Zürich)", scim_enabled=True)
    group = GroupFactory(name="SCIM", permissions=[f"realms.{c}" for c in SCIM_PERMISSION_CODENAMES])
    account = ServiceAccountFactory(username="scim-okta-prod-europe-zurich", groups=[group])
    okta = api(account_services.issue_token(account, name="Okta", realm=realm).secret)
    root = f"/api/realms/{realm.pk}/scim/v2"
    long_name = "marie-therese.de-la-fontaine-saint-exupery@subsidiary.example.com"
    ids = [
        okta.post(f"{root}/Users", data=okta_user(name, external_id=f"00u{n}")).json()["id"]
        for n, name in enumerate([long_name, "émile.zola@example.com", "åsa.berg@example.com", "zoé@example.com"])
    ]
    okta.post(f"{root}/Users", data=okta_user(long_name.upper(), external_id="00u9"))  # 409
    okta.get(f'{root}/Users?filter=userName zz "{long_name}"&startIndex=1&count=100')  # 400 with its query
    team = okta.post(
        f"{root}/Groups",
        data={"schemas": [GROUP], "displayName": "Engineering and Operations (EMEA)", "members": [{"value": ids[0]}]},
    ).json()
    role = GroupFactory(name="Realm viewer (read-only console)", permissions=["realms.view_realm"])
    RealmGroupRoleMapping.objects.create(realm_group_id=team["id"], role=role)
    return {"realm": realm, "user_id": ids[0], "group_id": team["id"], "long_name": long_name}


def pages(data: dict) -> dict[str, tuple[str, str]]:
    """Each page, with a selector of what must be on screen on it."""
    realm = data["realm"].pk
    return {
        "realm": (f"/realms/{realm}/", "#scim-recent-errors tr.scim-error .badge.err"),
        "users": (f"/realms/{realm}/users/", "#realm-users tr:nth-child(2) .badge"),
        "user": (f"/realms/{realm}/users/{data['user_id']}/", "#user-status"),
        "groups": (f"/realms/{realm}/groups/", "#realm-groups tr:nth-child(2) td:last-child"),
        "scim-requests": (f"/realms/{realm}/scim-requests/", "#scim-requests tr.scim-error td.detail"),
        "role-mappings": (f"/realms/{realm}/roles/", "#role-mappings tr:nth-child(2) td:nth-child(2)"),
    }


def assert_fits(page, path: str, width: int, key: str) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{path} scrolls sideways at {width} px: {scroll} px"
    for link in page.locator("header.topbar nav a").all():  # the nav is never cut ("Dja")
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, f"{path}: nav link cut at {width} px"
    crumbs = page.locator("nav.breadcrumbs")
    if crumbs.count():
        assert crumbs.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), f"{path}: breadcrumb cut"
    cell = page.locator(key).first
    box = cell.bounding_box()
    assert box is not None and box["width"] > 0, f"{path}: {key} not shown"
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{path}: {key} off-screen at {width} px"
    assert cell.inner_text().strip(), f"{path}: {key} is empty"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1440px"])
def test_the_pages_an_okta_admin_opens_fit_the_screen(tab, admin_user, api, viewport):
    data = seed(api)
    page = tab.page
    page.set_viewport_size(viewport)
    tab.login("admin")
    width = viewport["width"]
    for name, (path, key) in pages(data).items():
        tab.goto(path)
        assert_fits(page, path, width, key)
        for box in page.locator(".table-wrap").all():
            # A list is cards (phone) or fits; a table that keeps its columns scrolls in its box, with a hint.
            assert box.evaluate("b => b.getBoundingClientRect().right") <= width
            if box.evaluate("b => b.scrollWidth > b.clientWidth + 2"):
                hint = box.evaluate("b => b.previousElementSibling && b.previousElementSibling.innerText")
                assert hint and "Scroll sideways" in hint, f"{path}: a table scrolls without a hint"
        tab.screenshot(f"layout-{name}-{width}", full_page=True)

    if width == PHONE["width"]:
        # A list row on a phone is a card: each value with its column's heading.
        tab.goto(pages(data)["users"][0])
        card = page.locator("#realm-users tr").nth(1).locator("td")
        labels = card.evaluate_all("cells => cells.map(c => c.dataset.label + ': ' + c.innerText)")
        assert labels[0] == "userName: åsa.berg@example.com" and "Active: active" in labels
        assert page.locator("#realm-users tr.list-head").is_hidden()  # the headings are on each card instead
        tab.goto(pages(data)["realm"][0])
        error = page.locator("#scim-recent-errors tr.scim-error").first
        assert error.bounding_box()["height"] < 400  # the latest errors read as short cards, not tall empty rows
        labels = error.locator("td").evaluate_all("cells => cells.map(c => c.dataset.label)")
        assert labels == ["When", "Request", "Status", "Detail", "By"]


def test_the_sp_metadata_link_shows_the_xml_in_the_browser(tab, admin_user):
    realm = RealmFactory(name="Okta")
    tab.login("admin")
    tab.goto(f"/realms/{realm.pk}/")
    with tab.page.expect_navigation():
        tab.page.click("a#saml-metadata-link")
    assert "EntityDescriptor" in tab.page.content()


def test_the_admin_service_account_form_labels_its_groups_before_the_widget(tab, admin_user):
    GroupFactory(name="SCIM Okta")
    tab.login("admin")
    tab.goto("/admin/realms/serviceaccount/add/")
    # Django 5.2's admin puts labels on the left of their fields, Django 6's above them: never on the right.
    heading = tab.page.locator(".field-groups").get_by_text("Groups:", exact=True).bounding_box()
    widget = tab.page.locator(".field-groups input[type=checkbox]").first.bounding_box()
    left_of = heading["x"] + heading["width"] <= widget["x"] + 1
    above = heading["y"] + heading["height"] <= widget["y"] + 1 and heading["x"] <= widget["x"] + 1
    assert left_of or above, f"the Groups label is after its widget: {heading} vs {widget}"
    tab.screenshot("layout-admin-service-account-form")
