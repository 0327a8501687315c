"""Searching realm users in a real browser the way an Okta admin does: Okta's user id, or a name without accents."""

from __future__ import annotations

from realms.models import RealmEmail

from ..factories import RealmFactory, RealmUserFactory


def test_search_by_external_id_and_without_accents(tab, admin_user):
    realm = RealmFactory(name="Okta")
    muller = RealmUserFactory(
        realm=realm, username="jurgen@example.com", given_name="Jürgen", family_name="Müller", external_id="00u1a2B3c4"
    )
    RealmEmail.objects.create(user=muller, value="jurgen@example.com", primary=True)
    for n in range(3):
        RealmUserFactory(realm=realm, username=f"user{n}@example.com", family_name="Smith", external_id=f"00u9{n}")
    page = tab.page
    tab.login("admin")
    tab.goto(f"/realms/{realm.pk}/users/")
    search = page.locator("input[name=q]")
    assert "externalId" in search.get_attribute("placeholder")

    for query in ("MULLER", "00U1A2b3C4", str(muller.pk)):
        search.fill(query)
        with page.expect_navigation():
            search.press("Enter")
        assert page.inner_text("#result-count") == "1 user found", query
        assert page.locator("#realm-users tr").count() == 2 and "Müller" in page.inner_text("#realm-users")
    tab.screenshot("10-search-without-accents")
    page.click("#realm-users >> text=jurgen@example.com")
    page.wait_for_url(tab.url(f"/realms/{realm.pk}/users/{muller.pk}/"))
