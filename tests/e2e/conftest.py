"""Browser tests: Debian's headless Chromium driven by Playwright against the app served by pytest-django's
live_server (a thread of this process).

Playwright's sync API runs an event loop in this thread; Django refuses ORM calls made while an event loop runs
(SynchronousOnlyOperation) although these are plain synchronous calls, so the tests allow them. Tests only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..system_programs import require_program

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
E2E_PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole session (Debian's package, started by the tests)."""
    executable = require_program("chromium", "chromium", "browser tests")
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    browser = manager.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    try:
        yield manager, browser
    finally:
        browser.close()
        manager.stop()


@pytest.fixture(scope="package")
def live_server(request, django_db_setup):
    """pytest-django's live server, started with HTTPS redirects off.

    SecurityMiddleware reads SECURE_SSL_REDIRECT once, when the server thread builds its handler, so the
    function-scoped `settings` override of tests/conftest.py comes too late for a server started once.
    """
    from django.test import override_settings
    from pytest_django.live_server_helper import LiveServer

    addr = request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    with override_settings(SECURE_SSL_REDIRECT=False):
        server = LiveServer(addr)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _plain_http_cookies(settings):
    """The live server speaks plain HTTP: cookies must not be Secure-only for the browser to send them back."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


class Browser:
    """A browser tab on the live server that refuses every request leaving it: pages must work with no network."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.outside_requests: list[str] = []

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def goto(self, path: str):
        return self.page.goto(self.url(path))

    def login(self, username: str, password: str = E2E_PASSWORD) -> None:
        self.goto("/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_selector("header.topbar nav")

    def screenshot(self, name: str, *, full_page: bool = False, mask: tuple[str, ...] = ()) -> Path:
        """Save a PNG; `mask` selectors (secrets such as a freshly issued token) are painted over."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(
            path=str(path),
            full_page=full_page,
            mask=[self.page.locator(selector) for selector in mask],
            mask_color="#9aa5b1",
        )
        return path


@pytest.fixture
def tab(chromium, live_server, transactional_db) -> Iterator[Browser]:
    _manager, chromium_browser = chromium
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 860}, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    tab = Browser(page, live_server.url)

    def only_live_server(route):
        if route.request.url.startswith(live_server.url) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            tab.outside_requests.append(route.request.url)
            route.abort()

    context.route("**/*", only_live_server)
    try:
        yield tab
    finally:
        context.close()
    assert tab.outside_requests == [], "pages must work with no network"


@pytest.fixture
def admin_user(transactional_db):
    from ..factories import SuperUserFactory

    return SuperUserFactory(username="admin", password=E2E_PASSWORD)


@pytest.fixture
def api(chromium, live_server):
    """Playwright's HTTP client, for SCIM calls over real HTTP to the live server."""
    manager, _browser = chromium
    contexts = []

    def make(token: str):
        context = manager.request.new_context(
            base_url=live_server.url,
            extra_http_headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/scim+json",
                "Content-Type": "application/scim+json; charset=utf-8",
            },
        )
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.dispose()
