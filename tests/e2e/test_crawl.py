"""Every console and Django admin page, opened in a real browser as a superuser and as a user who may only view:
no page answers 5xx, logs a console error or breaks a script, and no link shown to a user leads to a page it may
not open (a 403 or 404 is a console error in Chromium, so it fails the crawl too)."""

from __future__ import annotations

from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from django.contrib.auth.models import Permission

from realms.models import APIToken, Realm, RealmGroupRoleMapping, RealmUser
from realms.services import SCIM_PERMISSION_CODENAMES
from realms.services import accounts as account_services

from ..factories import GroupFactory, RealmFactory, ServiceAccountFactory, UserFactory
from ..scim.conftest import okta_user
from .conftest import E2E_PASSWORD

DOWNLOADS = ("/saml/metadata/", "/favicon.ico")
MAX_PAGES = 250  # per user: far more than the distinct pages there are; a runaway crawl fails instead of hanging

# Never followed: they change state on GET or leave the console (SAML sign-in goes to the IdP).
SKIPPED = ("/admin/logout/", "/static/", "/api/", "/saml/login/", "/saml/acs/", "/admin/r/", "/admin/jsi18n/")


def seed(api) -> dict:
    """A realm as Okta leaves it after a day of provisioning, with a failure or two, a role mapping and tokens."""
    realm = RealmFactory(name="Okta", scim_enabled=True)
    RealmFactory(name="Okta staging", scim_enabled=False)
    group = GroupFactory(name="SCIM Okta", permissions=[f"realms.{c}" for c in SCIM_PERMISSION_CODENAMES])
    account = ServiceAccountFactory(username="scim-okta", groups=[group])
    issued = account_services.issue_token(account, name="Okta provisioning", realm=realm)
    account_services.issue_token(account, name="Old one")
    okta = api(issued.secret)
    root = f"/api/realms/{realm.pk}/scim/v2"
    ids = [okta.post(f"{root}/Users", data=okta_user(f"user{n}@example.com")).json()["id"] for n in range(3)]
    okta.post(f"{root}/Users", data=okta_user("USER0@example.com"))  # 409
    okta.get(f"{root}/Users/nobody")  # 404
    okta.patch(
        f"{root}/Users/{ids[2]}",
        data={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": False}}],
        },
    )
    team = okta.post(
        f"{root}/Groups",
        data={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Engineering",
            "members": [{"value": i} for i in ids[:2]],
        },
    ).json()
    role = GroupFactory(name="Console viewers", permissions=["realms.view_realm"])
    RealmGroupRoleMapping.objects.create(realm_group_id=team["id"], role=role)
    assert RealmUser.objects.filter(realm=realm).count() == 3 and Realm.objects.count() == 2
    return {"realm": realm, "token": issued.token, "account": account.realms_service_account}


def view_only_user():
    """Staff (to open the Django admin) with every view permission and nothing else."""
    user = UserFactory(username="viewer", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return user


def crawl(tab, start: list[str]) -> tuple[list[str], list[str]]:
    """Breadth-first over same-origin links from `start`, each distinct path once; returns (pages, problems)."""
    page = tab.page
    problems: list[str] = []
    current = {"url": ""}
    page.on(
        "console",
        lambda m: problems.append(f"{current['url']}: console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(f"{current['url']}: script error: {e}"))
    page.on(
        "response",
        lambda r: problems.append(f"{current['url']}: {r.status} for {r.url}") if r.status >= 500 else None,
    )
    seen: set[str] = set()
    queue = deque(start)
    visited: list[str] = []
    while queue:
        path = queue.popleft()
        key = urlsplit(path).path
        if key in seen or any(skip in key for skip in SKIPPED):
            continue
        seen.add(key)
        assert len(visited) < MAX_PAGES, f"more than {MAX_PAGES} pages: {visited[-20:]}"
        current["url"] = path
        visited.append(path)
        if key.endswith(DOWNLOADS):  # a file the browser would save: fetched, not opened
            fetched = page.request.get(tab.url(path))
            if fetched.status >= 400:
                problems.append(f"{path}: answered {fetched.status}")
            continue
        response = tab.goto(path)
        if response is None or response.status >= 400:
            problems.append(f"{path}: answered {response.status if response else 'nothing'}")
            continue
        if "html" not in (response.headers.get("content-type") or ""):
            continue
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            url, _fragment = urldefrag(href)
            parts = urlsplit(url)
            if url.startswith(tab.base_url) and parts.path not in seen:
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return visited, problems


@pytest.mark.parametrize("who", ["superuser", "view-only user"])
def test_every_console_and_admin_page_opens_cleanly(tab, admin_user, api, who):
    data = seed(api)
    username = "admin"
    if who == "view-only user":
        username = view_only_user().get_username()
    tab.login(username, E2E_PASSWORD)
    realm, token, account = data["realm"], data["token"], data["account"]
    start = [
        "/",
        "/realms/",
        f"/realms/{realm.pk}/",
        "/realms/activity/",
        "/realms/service-accounts/",
        f"/realms/service-accounts/{account.pk}/",
        f"/realms/{realm.pk}/scim-requests/",
        f"/realms/{realm.pk}/saml/metadata/",
        "/favicon.ico",
        "/logout/",  # the confirmation page (GET never logs out)
        "/admin/",
    ]
    if who == "superuser":
        start += [f"/realms/tokens/{token.pk}/issued/", f"/admin/realms/apitoken/{token.pk}/issued/"]
    visited, problems = crawl(tab, start)
    assert not problems, "\n".join(problems)
    paths = {urlsplit(p).path for p in visited}
    # The crawl reached the pages that matter, for both users.
    for expected in (
        f"/realms/{realm.pk}/users/",
        f"/realms/{realm.pk}/groups/",
        f"/realms/{realm.pk}/roles/",
        "/admin/realms/realmuser/",
        "/admin/realms/apitoken/",
        "/admin/auth/group/",
    ):
        assert expected in paths, expected
    assert any(p.startswith(f"/realms/{realm.pk}/users/") and p.count("/") == 5 for p in paths)
    if who == "superuser":
        assert "/realms/create/" in paths and "/admin/realms/serviceaccount/add/" in paths
    else:
        assert "/realms/create/" not in paths and not any(p.endswith("/add/") for p in paths)
    assert len(paths) > 40
    assert APIToken.objects.count() == 2  # opening every page issued nothing
