#!/usr/bin/env python3
"""Drive a live Django host that embeds the realms and scim apps, as Okta, the host's admin and a user would.

`.ci/embed` builds the wheel, installs it into throw-away hosts made by `django-admin startproject`, starts each
one's server and runs this script against it with the host's own Python (docs/embedding.md, "How CI tests the
embedding"). It needs only what the apps install (requests and pysaml2 come with them), xmlsec1, and the test
suite's SAML IdP (tests/realms/saml_idp.py, loaded from its file). It never imports Django or the apps: everything
goes through HTTP and the host's `manage.py`, as in a real deployment.

    python tests/embedding/exercise.py --base-url http://127.0.0.1:8711 --manage /tmp/host/manage.py \\
        --quickstart quickstart.json --admin admin --password secret --user-admin auth/user

It prints each check, goes on after a failure where the next checks do not depend on it, and exits 1 if any
check failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", message=".*CFB.*")  # pysaml2 on recent cryptography

REPO = Path(__file__).resolve().parents[2]
SCIM_JSON = "application/scim+json; charset=utf-8"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
TIMEOUT = 30


def load_saml_idp():
    """tests/realms/saml_idp.py, by its path: the repository's root is not put on sys.path, so that its `realms`
    and `scim` source folders never shadow what the host installed."""
    spec = importlib.util.spec_from_file_location("saml_idp", REPO / "tests" / "realms" / "saml_idp.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["saml_idp"] = module
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------------- reporting


class Stop(Exception):
    """A check failed that the rest of its section depends on."""


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []

    def ok(self, condition: Any, what: str, detail: Any = "") -> bool:
        if condition:
            self.passed += 1
            print(f"  ok    {what}", flush=True)
            return True
        self.failed.append(what)
        text = str(detail)[:1500].replace("\n", "\n        ")
        print(f"  FAIL  {what}" + (f"\n        {text}" if detail != "" else ""), flush=True)
        return False

    def require(self, condition: Any, what: str, detail: Any = "") -> None:
        if not self.ok(condition, what, detail):
            raise Stop(what)

    def status(self, response: requests.Response, expected: int | set[int], what: str, *, stop: bool = True) -> bool:
        wanted = {expected} if isinstance(expected, int) else expected
        good = response.status_code in wanted
        detail = "" if good else explain(response)
        if stop:
            self.require(good, what, detail)
            return True
        return self.ok(good, what, detail)

    def section(self, title: str, steps: Callable[[], None]) -> None:
        print(f"\n== {title}", flush=True)
        try:
            steps()
        except Stop as stop:
            print(f"        (rest of '{title}' skipped: it depends on '{stop}')", flush=True)
        except Exception:
            self.failed.append(f"{title}: unexpected error")
            print(f"  FAIL  {title}: unexpected error\n{traceback.format_exc()}", flush=True)


def explain(response: requests.Response) -> str:
    """Method, URL, status and the gist of the body (a Django debug page's exception, a SCIM error's detail)."""
    text = response.text or ""
    gist = ""
    match = re.search(r'<pre class="exception_value">(.*?)</pre>', text, re.S)
    if match:
        title = re.search(r"<title>(.*?)</title>", text, re.S)
        where = re.sub(r"\s+", " ", unescape(title.group(1))).strip() if title else ""
        gist = f"{where}: {unescape(match.group(1).strip())}"
    elif "errorlist" in text:  # a form sent back with its errors
        errors = re.findall(r'<ul class="errorlist[^"]*"(?: id="([^"]*)")?>(.*?)</ul>', text, re.S)
        gist = "form errors: " + "; ".join(f"{i or 'form'}: {re.sub(r'<[^>]+>', ' ', e).strip()}" for i, e in errors)
    elif "json" in response.headers.get("Content-Type", ""):
        gist = text[:500]
    else:
        gist = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))[:400]
    location = f" (Location: {response.headers['Location']})" if "Location" in response.headers else ""
    return f"{response.request.method} {response.url} -> {response.status_code}{location}: {gist}"


# ---------------------------------------------------------------------------------------------------- clients


class SCIMClient:
    """What Okta's provisioning engine sends: bearer token, application/scim+json, paths under the root URL."""

    def __init__(self, root_url: str, token: str) -> None:
        self.root = root_url
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/scim+json", "Authorization": f"Bearer {token}"})

    def __call__(self, method: str, path: str, body: Any = None, **params: Any) -> requests.Response:
        headers = {"Content-Type": SCIM_JSON} if body is not None else {}
        return self.session.request(
            method,
            self.root + path,
            data=json.dumps(body) if body is not None else None,
            params=params or None,
            headers=headers,
            allow_redirects=False,
            timeout=TIMEOUT,
        )


class Browser:
    """A person with a browser: cookies, forms with their CSRF token, redirects looked at one by one."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.session = requests.Session()

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.url(path), allow_redirects=False, timeout=TIMEOUT, **kwargs)

    def post(self, path: str, data: Any, *, form_page: requests.Response | None = None) -> requests.Response:
        """POST a form; the CSRF token comes from the page the form was on (or the CSRF cookie)."""
        data = dict(data)
        token = None
        if form_page is not None:
            match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form_page.text)
            token = match.group(1) if match else None
        data.setdefault("csrfmiddlewaretoken", token or self.session.cookies.get("csrftoken", ""))
        return self.session.post(
            self.url(path), data=data, allow_redirects=False, timeout=TIMEOUT, headers={"Referer": self.url(path)}
        )

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path


def body(response: requests.Response) -> Any:
    """The JSON of an answer, or {} when it has none (an HTML error page fails the check, not the whole run)."""
    try:
        return response.json()
    except ValueError:
        return {}


def okta_user(username: str, given: str, family: str, external_id: str) -> dict:
    """The body Okta POSTs for a new user (shared/idp-notes.md: placeholder password, groups [], locale)."""
    return {
        "schemas": [USER_SCHEMA],
        "userName": username,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": username, "type": "work"}],
        "displayName": f"{given} {family}",
        "locale": "en-US",
        "externalId": external_id,
        "groups": [],
        "password": "tmp-Pa55word!",
        "active": True,
    }


def patch_op(*operations: dict) -> dict:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


def option_value(page: str, select_name: str, label: str) -> str | None:
    """The value of the choice labelled `label` of the field `select_name` of a page: an <option> of its <select>,
    or one of its checkboxes (Django's CheckboxSelectMultiple: <label><input … name=… value=…> text</label>)."""
    select = re.search(rf'<select[^>]*name="{select_name}"[^>]*>(.*?)</select>', page, re.S)
    if select:
        for value, text in re.findall(r'<option value="([^"]*)"[^>]*>(.*?)</option>', select.group(1), re.S):
            if unescape(text).strip() == label:
                return value
    for tag, text in re.findall(r'(<input[^>]*name="' + re.escape(select_name) + r'"[^>]*>)(.*?)</label>', page, re.S):
        value = re.search(r'value="([^"]*)"', tag)
        if value and unescape(re.sub(r"<[^>]+>", "", text)).strip() == label:
            return value.group(1)
    return None


def form_data(page: str, form_id: str) -> dict[str, Any]:
    """What a browser would submit from the form `form_id` of a page, as it stands (inputs, selects, textareas)."""
    form = re.search(rf'<form[^>]*id="{form_id}"[^>]*>(.*?)</form>', page, re.S)
    if not form:
        return {}
    html, data = form.group(1), {}

    def attributes(tag: str) -> dict[str, str]:
        return {k: unescape(v) for k, v in re.findall(r'([\w-]+)(?:="([^"]*)")?', tag)}

    for tag in re.findall(r"<input\b([^>]*)>", html):
        a = attributes(tag)
        kind = a.get("type", "text")
        if "name" not in a or kind in {"submit", "button", "file", "image", "reset"}:
            continue
        if kind in {"checkbox", "radio"} and "checked" not in a:
            continue
        data.setdefault(a["name"], []).append(a.get("value", "on" if kind in {"checkbox", "radio"} else ""))
    for tag, options in re.findall(r"<select\b([^>]*)>(.*?)</select>", html, re.S):
        name = attributes(tag).get("name")
        chosen = [attributes(o).get("value", "") for o in re.findall(r"<option\b([^>]*\bselected\b[^>]*)>", options)]
        if name:
            data[name] = chosen
    for tag, text in re.findall(r"<textarea\b([^>]*)>(.*?)</textarea>", html, re.S):
        name = attributes(tag).get("name")
        if name:
            data[name] = [unescape(text).lstrip("\n")]
    return data


# ---------------------------------------------------------------------------------------------------- the run


class Exercise:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.base = args.base_url.rstrip("/")
        self.printed_base = (args.printed_base or self.base).rstrip("/")
        self.check = Checks()
        self.quickstart = json.loads(Path(args.quickstart).read_text())
        self.admin = Browser(self.base)
        self.tmp = Path(tempfile.mkdtemp(prefix="embed-exercise-"))
        self.state: dict[str, Any] = {}

    def manage(self, *arguments: str) -> subprocess.CompletedProcess:
        manage_py = Path(self.args.manage)
        return subprocess.run(
            [sys.executable, str(manage_py), *arguments],
            cwd=manage_py.parent,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def live_url(self, printed: str) -> str:
        """A URL a command printed, at the live server: the same when the host set REALMS['PUBLIC_BASE_URL'] to it,
        else (nothing set) printed with the documented default base, which this server does not listen on."""
        return self.base + printed[len(self.printed_base) :] if printed.startswith(self.printed_base) else printed

    def run(self) -> int:
        try:
            return self.run_sections()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def run_sections(self) -> int:
        self.wait_for_server()
        c = self.check
        c.section("scim_quickstart output", self.quickstart_output)
        c.section("Okta-shaped SCIM exchange against the printed root URL", self.scim_exchange)
        c.section("Management commands and /api/whoami", self.commands_and_whoami)
        c.section("Host admin: login through the host's /admin/login/", self.admin_login)
        c.section("Management API, its OpenAPI document and the change feed", self.api_and_feed)
        c.section("Console pages inside the host", self.console_pages)
        c.section("Admin: service accounts and API tokens", self.service_accounts_and_tokens)
        c.section("A service account cannot get a password login", self.service_account_password)
        c.section("SAML sign-in through a realm (test IdP, xmlsec1)", self.saml_sign_in)
        c.section("Every admin page the apps register", self.admin_sweep)
        c.section("Admin: revoke the API token", self.revoke_token)
        if not self.args.layout_marker:  # the apps' own top bar: its log-out button, last (it ends the session)
            c.section("Log out from the console's top bar", self.log_out)
        print(f"\n{c.passed} checks passed, {len(c.failed)} failed")
        for what in c.failed:
            print(f"  failed: {what}")
        return 1 if c.failed else 0

    def wait_for_server(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(self.base + "/admin/login/", timeout=5)
                return
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"No server answers at {self.base}") from None
                time.sleep(0.3)

    # ------------------------------------------------------------------------------------------------ SCIM

    def quickstart_output(self) -> None:
        c, data = self.check, self.quickstart
        keys = {"realm_uuid", "realm_name", "scim_root_url", "group", "service_account", "token"}
        c.require(set(data) == keys, "scim_quickstart --json prints the documented keys", sorted(data))
        expected = f"{self.printed_base}/api/realms/{data['realm_uuid']}/scim/v2"
        c.require(data["scim_root_url"] == expected, f"SCIM root URL is {expected}", data["scim_root_url"])
        c.ok(data["token"].startswith("zrlm_"), "the token has the zrlm_ prefix")
        c.ok(data["realm_name"] == "Okta" and data["group"] == "SCIM Okta", "realm Okta, group SCIM Okta", data)

    def scim_exchange(self) -> None:
        c, data = self.check, self.quickstart
        root = self.live_url(data["scim_root_url"])
        if root != data["scim_root_url"]:
            print(f"        (REALMS['PUBLIC_BASE_URL'] unset: the printed base is the default; calling {root})")
        scim = SCIMClient(root, data["token"])
        self.state["scim_root"] = root

        anonymous = requests.get(root + "/Users", timeout=TIMEOUT, headers={"Accept": "application/scim+json"})
        c.status(anonymous, 401, "GET /Users without a token is 401", stop=False)
        c.ok("Bearer" in anonymous.headers.get("WWW-Authenticate", ""), "401 names the Bearer scheme")

        r = scim("GET", "/ServiceProviderConfig")
        c.status(r, 200, "GET /ServiceProviderConfig is 200", stop=False)
        r = scim("GET", "/Users", startIndex=1, count=2)
        c.status(r, 200, "test connector: GET /Users?startIndex=1&count=2 is 200")
        c.ok(r.headers.get("Content-Type", "").startswith("application/scim+json"), "answers application/scim+json")
        c.ok(
            body(r)
            == {"schemas": [LIST_SCHEMA], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []},
            "an empty ListResponse",
            explain(r),
        )
        c.status(scim("GET", "/Groups", startIndex=1, count=100), 200, "GET /Groups?startIndex=1&count=100 is 200")
        r = scim("GET", "/Users/", startIndex=1, count=2)
        c.status(r, 200, "GET /Users/ (trailing slash) is 200, not a redirect", stop=False)

        lookup = scim("GET", "/Users", filter='userName eq "alice@example.com"', startIndex=1, count=100)
        c.status(lookup, 200, 'lookup GET /Users?filter=userName eq "alice@example.com" is 200')
        c.ok(body(lookup)["totalResults"] == 0 and body(lookup)["Resources"] == [], "not found: empty list")

        r = scim("POST", "/Users", okta_user("alice@example.com", "Alice", "Liddell", "00ualice"))
        c.status(r, 201, "POST /Users alice is 201")
        alice = body(r)
        c.ok(r.headers.get("Location") == f"{root}/Users/{alice['id']}", "Location is <root>/Users/<id>", r.headers)
        c.ok(alice["meta"]["location"] == f"{root}/Users/{alice['id']}", "meta.location under the root URL")
        c.ok(
            alice["userName"] == "alice@example.com"
            and alice["externalId"] == "00ualice"
            and alice["active"] is True
            and alice["name"] == {"givenName": "Alice", "familyName": "Liddell"}
            and "password" not in alice,
            "the created user is returned whole, without the password",
            alice,
        )
        found = body(scim("GET", "/Users", filter='userName eq "ALICE@example.com"', startIndex=1, count=100))
        c.ok(found["totalResults"] == 1 and found["Resources"][0]["id"] == alice["id"], "lookup ignores case", found)
        r = scim("POST", "/Users", okta_user("Alice@Example.com", "Alice", "L", "00uother"))
        c.status(r, 409, "POST of a taken userName is 409", stop=False)
        c.ok(body(r).get("scimType") == "uniqueness", "with scimType uniqueness", explain(r))

        r = scim("GET", f"/Users/{alice['id']}")
        c.status(r, 200, "GET /Users/<id> is 200")
        current = body(r)
        current["name"]["familyName"] = "Pleasance"
        current["displayName"] = "Alice Pleasance"
        current["password"] = "another-placeholder"  # Okta sometimes echoes one
        r = scim("PUT", f"/Users/{alice['id']}", current)
        c.status(r, 200, "PUT of the returned representation, changed, is 200")
        put = body(r)
        c.ok(
            put["name"]["familyName"] == "Pleasance" and put["meta"]["version"] != alice["meta"]["version"],
            "the change is kept and the version moves",
            put,
        )

        r = scim("PATCH", f"/Users/{alice['id']}", patch_op({"op": "replace", "value": {"active": False}}))
        c.status(r, 200, 'PATCH {"op":"replace","value":{"active":false}} is 200')
        c.ok(body(r)["active"] is False, "alice is deactivated")
        c.ok(body(scim("GET", f"/Users/{alice['id']}"))["active"] is False, "and reads back inactive")

        r = scim("POST", "/Users", okta_user("bob@example.com", "Bob", "Builder", "00ubob"))
        c.status(r, 201, "POST /Users bob is 201")
        bob = body(r)

        lookup = scim("GET", "/Groups", filter='displayName eq "Engineering"', startIndex=1, count=100)
        c.ok(
            lookup.status_code == 200 and body(lookup)["totalResults"] == 0, "group lookup: not found", explain(lookup)
        )
        r = scim(
            "POST",
            "/Groups",
            {
                "schemas": [GROUP_SCHEMA],
                "displayName": "Engineering",
                "members": [{"value": alice["id"], "display": "alice@example.com"}],
            },
        )
        c.status(r, 201, "POST /Groups with a member is 201")
        group = body(r)
        c.ok([m["value"] for m in group.get("members", [])] == [alice["id"]], "the group holds alice", group)
        r = scim(
            "PATCH",
            f"/Groups/{group['id']}",
            patch_op(
                {"op": "replace", "value": {"id": group["id"], "displayName": "Engineering"}},
                {"op": "add", "path": "members", "value": [{"value": bob["id"], "display": "bob@example.com"}]},
                {"op": "remove", "path": f'members[value eq "{alice["id"]}"]'},
            ),
        )
        c.status(r, {200, 204}, "PATCH group: same-name rename, add bob, remove alice")
        members = [m["value"] for m in body(scim("GET", f"/Groups/{group['id']}")).get("members", [])]
        c.ok(members == [bob["id"]], "the group now holds bob only", members)
        bob_groups = [g["value"] for g in body(scim("GET", f"/Users/{bob['id']}")).get("groups", [])]
        c.ok(bob_groups == [group["id"]], "bob's groups list it", bob_groups)
        self.state.update(alice=alice, bob=bob, group=group)

    def commands_and_whoami(self) -> None:
        c, data = self.check, self.quickstart
        whoami = requests.get(
            f"{self.base}/api/whoami", headers={"Authorization": f"Bearer {data['token']}"}, timeout=TIMEOUT
        )
        c.status(whoami, 200, "GET /api/whoami with the quickstart's token is 200", stop=False)
        c.ok(
            whoami.ok and body(whoami).get("username") == data["service_account"],
            f"  and names {data['service_account']}, a service account",
            explain(whoami),
        )
        c.status(
            requests.get(f"{self.base}/api/whoami", timeout=TIMEOUT), 401, "GET /api/whoami without a token is 401"
        )
        done = self.manage("create_service_account", "okta-2", "--group", data["group"], "--json")
        c.require(
            done.returncode == 0,
            f"manage.py create_service_account okta-2 --group '{data['group']}' --json",
            done.stderr,
        )
        account = json.loads(done.stdout)
        c.ok(set(account) == {"username", "token"} and account["username"] == "okta-2", "  prints username and token")
        # pysaml2 loads XML schemas with xmlschema, whose INFO line the apps drop (realms.apps.quiet_xmlschema).
        check = self.manage("check")
        c.ok(
            check.returncode == 0 and "XMLSchema.xsd" not in check.stdout + check.stderr,
            "manage.py check prints no xmlschema 'Resource ... is already loaded' line",
            check.stdout + check.stderr,
        )
        r = SCIMClient(self.live_url(data["scim_root_url"]), account["token"])("GET", "/Groups")
        c.status(r, 200, "  its token calls SCIM (GET /Groups is 200)", stop=False)

    # ------------------------------------------------------------------------------------------------ admin

    def admin_login(self) -> None:
        c, admin = self.check, self.admin
        r = admin.get("/admin/")
        c.status(r, 302, "GET /admin/ anonymous redirects to the host's login")
        page = admin.get("/admin/login/")
        c.status(page, 200, "GET /admin/login/ is 200")
        r = admin.post(
            "/admin/login/",
            {"username": self.args.admin, "password": self.args.password, "next": "/admin/"},
            form_page=page,
        )
        c.status(r, 302, "POST /admin/login/ as the host's superuser logs in")
        index = admin.get("/admin/")
        c.status(index, 200, "GET /admin/ is 200")
        for model in ("realm", "serviceaccount", "apitoken", "realmuser", "realmgroup"):
            c.ok(f'href="/admin/realms/{model}/"' in index.text, f"the admin index links realms.{model}")
        self.state["logged_in"] = True
        users = admin.get(f"/admin/{self.args.user_admin}/", params={"q": self.args.admin})
        me = re.search(
            rf'href="/admin/{self.args.user_admin}/(\d+)/change/[^"]*">{re.escape(self.args.admin)}<', users.text
        )
        c.ok(me, f"the host's user admin (/admin/{self.args.user_admin}/) lists {self.args.admin}")
        self.state["admin_pk"] = me.group(1) if me else "0"

    def api_and_feed(self) -> None:
        """The management API and the change feed under the host's api/ include (docs/api.md): drf-spectacular
        comes with the wheel, nothing for the host to add; tokens and sessions gated by model permissions."""
        c, data, admin = self.check, self.quickstart, self.admin
        bearer = {"Authorization": f"Bearer {data['token']}"}
        schema = requests.get(f"{self.base}/api/schema/", headers={"Accept": "application/json"}, timeout=TIMEOUT)
        c.status(schema, 200, "GET /api/schema/ is 200", stop=False)
        document = body(schema) if schema.ok else {}
        c.ok(
            str(document.get("openapi", "")).startswith("3.") and "/api/realms/" in document.get("paths", {}),
            "  an OpenAPI 3 document of the management API",
            sorted(document.get("paths", {}))[:5],
        )
        c.ok(not any("/scim/" in path for path in document.get("paths", {})), "  without SCIM's paths")
        feed = requests.get(f"{self.base}/api/realms/{data['realm_uuid']}/events/", headers=bearer, timeout=TIMEOUT)
        c.status(
            feed, 200, "GET the realm's change feed with the SCIM token (realms.view_realmuser) is 200", stop=False
        )
        events = body(feed).get("results", []) if feed.ok else []
        c.ok(
            any(event.get("type") == "user.created" for event in events) and body(feed).get("next"),
            "  it lists the users the SCIM exchange created, with a next cursor",
            explain(feed),
        )
        denied = requests.get(f"{self.base}/api/realms/", headers=bearer, timeout=TIMEOUT)
        c.status(denied, 403, "GET /api/realms/ with that token (no realms.view_realm) is 403", stop=False)
        listed = admin.get("/api/realms/", params={"name": "Okta"})
        c.status(listed, 200, "GET /api/realms/ with the host superuser's session is 200", stop=False)
        realms = body(listed).get("results", []) if listed.ok else []
        c.ok(
            [urlsplit(realm.get("scim_root_url") or "").path for realm in realms if realm.get("name") == "Okta"]
            == [urlsplit(data["scim_root_url"]).path],
            "  it shows realm Okta with its SCIM root URL (the request's base, or PUBLIC_BASE_URL)",
            realms,
        )

    def console_pages(self) -> None:
        c, admin = self.check, self.admin
        c.require(self.state.get("logged_in"), "logged in as the host admin")
        realm_uuid = self.quickstart["realm_uuid"]
        r = admin.get("/realms/")
        c.status(r, 200, "GET /realms/ (realm list) is 200")
        c.ok(f"/realms/{realm_uuid}/" in r.text, "it links the Okta realm")
        page = admin.get(f"/realms/{realm_uuid}/")
        c.status(page, 200, f"GET /realms/{realm_uuid}/ (the realm's console page) is 200")
        root = f"{self.base}/api/realms/{realm_uuid}/scim/v2"
        c.ok(f'id="scim-root-url">{root}<' in page.text, f"the realm page shows the SCIM root URL {root}")
        last = re.search(r'id="scim-last-request">(.*?)</td>', page.text, re.S)
        c.ok(
            (last and "/Users" in last.group(1)) or (last and "/Groups" in last.group(1)),
            "  and the last SCIM request (the request log works in the host)",
            last.group(1).strip()[:300] if last else "no #scim-last-request",
        )
        assets = re.findall(r'<link[^>]+href="([^"]+)"', page.text) + re.findall(
            r'<script[^>]+src="([^"]+)"', page.text
        )
        external = [a for a in assets if a.startswith(("http:", "https:", "//"))]
        c.ok(not external, "no CDN: every stylesheet and script is served by the host", external)
        css = [a for a in assets if a.endswith("realms/console.css")]
        c.ok(css, "the page is styled by realms/console.css", assets)
        if self.args.layout_marker:
            c.ok(self.args.layout_marker in page.text, "the page is in the host's layout (realms/base.html overridden)")
        else:
            c.ok('<header class="topbar">' in page.text, "the page is in the apps' own layout (realms/base.html)")
            logout = re.search(r'<form method="post" action="([^"]+)" class="inline-form">', page.text)
            c.ok(logout, "  its top bar has a log-out form (POST) for the host's log-out view", page.text[:1500])
            if logout:
                self.state["logout_url"] = unescape(logout.group(1))
        for asset in assets:
            if asset.startswith("/"):
                c.status(admin.get(asset), 200, f"GET {asset} is 200", stop=False)
        for path, text in (
            (f"/realms/{realm_uuid}/users/", "bob@example.com"),
            (f"/realms/{realm_uuid}/groups/", "Engineering"),
            ("/realms/activity/", "alice@example.com"),
            ("/realms/service-accounts/", self.quickstart["service_account"]),
        ):
            r = admin.get(path)
            c.status(r, 200, f"GET {path} is 200", stop=False)
            c.ok(text in r.text, f"  and shows {text}")
        if "alice" in self.state:
            path = f"/realms/{realm_uuid}/users/{self.state['alice']['id']}/"
            c.status(admin.get(path), 200, f"GET {path} (a realm user) is 200", stop=False)

    def service_accounts_and_tokens(self) -> None:
        c, admin = self.check, self.admin
        c.require(self.state.get("logged_in"), "logged in as the host admin")
        r = admin.get("/admin/realms/serviceaccount/")
        c.status(r, 200, "GET /admin/realms/serviceaccount/ is 200")
        c.ok(self.quickstart["service_account"] in r.text, "it lists the quickstart's service account")
        page = admin.get("/admin/realms/serviceaccount/add/")
        c.status(page, 200, "GET /admin/realms/serviceaccount/add/ is 200")
        c.ok('type="password"' not in page.text, "the add form has no password field")
        group_pk = option_value(page.text, "groups", self.quickstart["group"])
        c.require(group_pk, f"the add form offers the group {self.quickstart['group']}")
        r = admin.post(
            "/admin/realms/serviceaccount/add/",
            {
                "username": "embed-scim",
                "description": "Added in the host's admin",
                "groups": [group_pk],
                "is_active": "on",
            },
            form_page=page,
        )
        c.status(r, 302, "POST add service account embed-scim redirects")
        change_url = r.headers["Location"]
        c.require(re.search(r"/admin/realms/serviceaccount/\d+/change/$", change_url), "to its change page", change_url)
        page = admin.get(change_url)
        c.status(page, 200, "its change page is 200")
        issue = re.search(r'href="(/admin/realms/apitoken/add/\?user=(\d+))"', page.text)
        c.require(issue, "the change page offers 'Issue an API token'")
        issue_url, user_id = unescape(issue.group(1)), issue.group(2)
        self.state["svc_user_id"] = user_id
        form = admin.get(issue_url)
        c.status(form, 200, f"GET {issue_url} is 200")
        r = admin.post(
            "/admin/realms/apitoken/add/",
            {"user": user_id, "name": "Embedding, all realms", "expires_at_0": "", "expires_at_1": "", "realm": ""},
            form_page=form,
        )
        c.status(r, 302, "POST add API token redirects to the page that shows it once")
        issued_url = r.headers["Location"]
        r = admin.get(issued_url)
        c.status(r, 200, "the issued page is 200")
        secret = re.search(r'id="api-token"[^>]*>(zrlm_[0-9A-Za-z_]+)<', r.text)
        c.require(secret, "the issued page shows the token", explain(r))
        secret = secret.group(1)
        c.ok("no-store" in r.headers.get("Cache-Control", ""), "the issued page is not cached")
        again = admin.get(issued_url)
        c.ok(secret not in again.text, "reloading the issued page never shows the token again")
        tokens = admin.get("/admin/realms/apitoken/")
        c.status(tokens, 200, "GET /admin/realms/apitoken/ is 200")
        match = re.search(r'href="/admin/realms/apitoken/(\d+)/change/[^"]*"[^>]*>Embedding, all realms<', tokens.text)
        c.require(match, "the token list shows the new token")
        token_pk = match.group(1)
        change = admin.get(f"/admin/realms/apitoken/{token_pk}/change/")
        c.status(change, 200, "its change page is 200")
        c.ok(secret not in tokens.text and secret not in change.text, "the token is never shown again")
        c.ok(secret[-4:] in change.text, "its change page shows its last characters")
        r = SCIMClient(self.state.get("scim_root", self.live_url(self.quickstart["scim_root_url"])), secret)(
            "GET", "/Users"
        )
        c.status(r, 200, "the admin-issued token calls SCIM (GET /Users is 200)", stop=False)
        c.ok(r.ok and body(r)["totalResults"] == 2, "  and sees the two users", explain(r))
        self.state.update(token=secret, token_pk=token_pk)
        # The token was used just now (last_used_at written): the account's page still lists it, with the button
        # (the field once silently showed "-" for a used token when the host has USE_TZ = False).
        page = admin.get(change_url)
        c.status(page, 200, "the service account's change page, after its token was used, is 200")
        listed = re.search(r"<li><a [^>]*>Embedding, all realms</a>(.*?)</li>", page.text, re.S)
        c.ok(
            listed and secret[-4:] in listed.group(1) and "last used never" not in listed.group(1),
            "  and lists the used token with its last use",
            listed.group(0) if listed else page.text[-3000:],
        )
        c.ok('href="/admin/realms/apitoken/add/?user=' in page.text, "  and still offers 'Issue an API token'")

    def service_account_password(self) -> None:
        c, admin = self.check, self.admin
        user_id = self.state.get("svc_user_id")
        c.require(user_id, "a service account was made in the admin")
        base = f"/admin/{self.args.user_admin}/{user_id}"
        page = admin.get(f"{base}/password/")
        c.status(page, 200, f"GET {base}/password/ (host's user admin) is 200")
        r = admin.post(
            f"{base}/password/",
            {"password1": "Embed-Pa55word!", "password2": "Embed-Pa55word!", "usable_password": "true"},
            form_page=page,
        )
        c.status(r, 302, "the host's user admin accepts a password for it")
        user_page = admin.get(f"{base}/change/")
        c.status(user_page, 200, f"GET {base}/change/ is 200")
        data = form_data(user_page.text, "user_form")
        c.require("username" in data and "is_staff" in user_page.text, "  its change form is read", sorted(data))
        data.update(is_staff=["on"], is_superuser=["on"], _save=["Save"])
        c.status(admin.post(f"{base}/change/", data, form_page=user_page), 302, "it accepts staff and superuser flags")
        user_page = admin.get(f"{base}/change/").text
        admin_page = admin.get(f"/admin/{self.args.user_admin}/{self.state['admin_pk']}/change/").text
        c.ok("pbkdf2_sha256" in admin_page, "(the admin's own change page shows its password hash's algorithm)")
        c.ok("pbkdf2_sha256" not in user_page, "the service account still has no usable password")
        flags = form_data(user_page, "user_form")
        c.ok("is_staff" not in flags and "is_superuser" not in flags, "  and is neither staff nor superuser", flags)
        intruder = Browser(self.base)
        login = intruder.get("/admin/login/")
        intruder.post(
            "/admin/login/",
            {"username": "embed-scim", "password": "Embed-Pa55word!", "next": "/admin/"},
            form_page=login,
        )
        c.status(intruder.get("/admin/"), 302, "it cannot log into the admin with that password")

    # ------------------------------------------------------------------------------------------------ SAML

    def saml_sign_in(self) -> None:
        c, admin = self.check, self.admin
        saml_idp = load_saml_idp()
        keys = saml_idp.make_key_pair(self.tmp / "idp", "okta-idp")
        metadata_file = self.tmp / "idp-metadata.xml"
        metadata_file.write_text(saml_idp.TestIdP(keys, "").metadata)
        done = self.manage(
            "create_realm",
            "--name",
            "Okta SSO",
            "--scim",
            "--idp-metadata",
            str(metadata_file),
            "--enabled-for-login",
            "--json",
        )
        c.require(
            done.returncode == 0, "manage.py create_realm --idp-metadata FILE --enabled-for-login --json", done.stderr
        )
        realm = json.loads(done.stdout)
        keys_printed = {"uuid", "name", "backend", "scim_enabled", "scim_root_url", "saml_metadata_url", "saml_acs_url"}
        c.ok(set(realm) == keys_printed, "  prints the documented keys", sorted(realm))
        acs_path = f"/realms/{realm['uuid']}/saml/acs/"
        c.ok(realm["saml_acs_url"] == self.printed_base + acs_path, f"  its ACS URL is {self.printed_base}{acs_path}")

        sp_metadata = requests.get(self.base + f"/realms/{realm['uuid']}/saml/metadata/", timeout=TIMEOUT)
        c.status(sp_metadata, 200, "the realm's SP metadata is served anonymously")
        entity_id = f"{self.base}/realms/{realm['uuid']}/saml/metadata/"
        c.ok(f'entityID="{entity_id}"' in sp_metadata.text, f"  with entity id {entity_id}")
        idp = saml_idp.TestIdP(keys, sp_metadata.text)

        if "scim_root" in self.state:
            other = SCIMClient(self.live_url(realm["scim_root_url"]), self.quickstart["token"])("GET", "/Users")
            c.status(
                other, 404, "the quickstart's token (restricted to realm Okta) gets 404 on realm Okta SSO", stop=False
            )

        # The user, pushed by SCIM into a group that maps to a console role of the host.
        token = self.state.get("token")
        c.require(token, "an API token for every realm was issued in the admin")
        scim = SCIMClient(self.live_url(realm["scim_root_url"]), token)
        r = scim("POST", "/Users", okta_user("carol@example.com", "Carol", "Danvers", "00ucarol"))
        c.status(r, 201, "SCIM POST /Users carol into realm Okta SSO")
        carol = body(r)
        r = scim(
            "POST",
            "/Groups",
            {"schemas": [GROUP_SCHEMA], "displayName": "Console viewers", "members": [{"value": carol["id"]}]},
        )
        c.status(r, 201, "SCIM POST /Groups 'Console viewers' with carol")

        page = admin.get("/admin/auth/group/add/")
        c.status(page, 200, "GET /admin/auth/group/add/ is 200")
        perms = [
            option_value(page.text, "permissions", f"Realms | {model} | Can view {model}")
            for model in ("realm", "realm user", "realm group")
        ]
        c.require(all(perms), "the group form offers the realms view permissions", perms)
        r = admin.post("/admin/auth/group/add/", {"name": "Realm viewers", "permissions": perms}, form_page=page)
        c.status(r, 302, "the admin creates the group 'Realm viewers' (view realms, users, groups)")

        path = f"/realms/{realm['uuid']}/roles/add/"
        page = admin.get(path)
        c.status(page, 200, f"GET {path} (console: add a role mapping) is 200")
        realm_group = option_value(page.text, "realm_group", "Console viewers")
        role = option_value(page.text, "roles", "Realm viewers")
        c.require(realm_group and role, "  it offers the realm group and the role")
        r = admin.post(path, {"realm_group": realm_group, "roles": [role]}, form_page=page)
        c.status(r, 302, "the admin maps 'Console viewers' to 'Realm viewers'")

        person = Browser(self.base)
        r = person.get(f"/realms/{realm['uuid']}/saml/login/", params={"next": "/realms/"})
        c.status(r, 302, "GET the realm's SAML login redirects")
        location = r.headers.get("Location", "")
        c.require(location.startswith(saml_idp.IDP_SSO_URL), "  to the IdP's SSO URL with an AuthnRequest", location)
        args, relay_state = idp.read_authn_request(location)
        c.ok(args["destination"] == self.base + acs_path, "the AuthnRequest asks for the realm's ACS", args)
        saml_response = idp.response(
            saml_idp.user_attributes("carol@example.com", "Carol", "Danvers"),
            name_id="carol@example.com",
            destination=args["destination"],
            sp_entity_id=args["sp_entity_id"],
            in_response_to=args["in_response_to"],
        )
        r = person.post(acs_path, {"SAMLResponse": saml_response, "RelayState": relay_state})
        c.status(r, 302, "POST of the IdP's signed response to the ACS redirects")
        c.ok(r.headers.get("Location") == "/realms/", "  to the page asked for (/realms/)", r.headers.get("Location"))
        r = person.get("/realms/")
        c.status(r, 200, "the signed-in user opens /realms/ (role from the realm group)")
        c.ok("carol@example.com" in r.text and "Okta SSO" in r.text, "  which shows carol signed in and the realm")
        c.status(person.get("/admin/"), 302, "carol (not staff) is sent to the admin's login by /admin/")

        replay = Browser(self.base)
        r = replay.post(acs_path, {"SAMLResponse": saml_response, "RelayState": relay_state})
        c.status(r, 403, "the same response posted again is refused (403)", stop=False)
        c.status(replay.get("/realms/"), 302, "  and signs nobody in", stop=False)

        links = admin.get("/admin/realms/consoleuserlink/")
        c.ok(links.ok and "carol@example.com" in links.text, "the admin lists carol's console user link")

        r = scim("PATCH", f"/Users/{carol['id']}", patch_op({"op": "replace", "value": {"active": False}}))
        c.status(r, 200, "SCIM deactivates carol")
        r = person.get("/realms/")
        c.status(r, 302, "carol's session ended at once: /realms/ redirects to the login", stop=False)

    # ------------------------------------------------------------------------------------------------ admin sweep

    def admin_sweep(self) -> None:
        """Every admin page of every model the apps register: list, search, add, change, delete, history."""
        c, admin = self.check, self.admin
        c.require(self.state.get("logged_in"), "logged in as the host admin")
        index = admin.get("/admin/").text
        models = sorted(set(re.findall(r'href="/admin/(realms|scim)/(\w+)/"', index)))
        c.require(models, "the admin index lists the apps' models", index[:300])
        print(f"        models: {', '.join(f'{a}.{m}' for a, m in models)}")
        user_app, user_model = self.args.user_admin.split("/")
        for app, model in [*models, (user_app, user_model)]:
            base = f"/admin/{app}/{model}/"
            listing = admin.get(base)
            c.status(listing, 200, f"{base}", stop=False)
            c.status(admin.get(base, params={"q": "example"}), 200, f"{base}?q=example", stop=False)
            c.status(
                admin.get(base + "add/"), {200, 403}, f"{base}add/ (200, or 403 where adding is refused)", stop=False
            )
            pks = re.findall(rf'href="/admin/{app}/{model}/([^/"]+)/change/', listing.text)
            if not c.ok(pks, f"  an object to open in {base}", "the run made none: add a step that does"):
                continue
            obj = f"{base}{pks[0]}/"
            c.status(admin.get(obj + "change/"), 200, f"{obj}change/", stop=False)
            c.status(admin.get(obj + "delete/"), {200, 403}, f"{obj}delete/ (200, or 403 where refused)", stop=False)
            c.status(admin.get(obj + "history/"), 200, f"{obj}history/", stop=False)

    def revoke_token(self) -> None:
        c, admin = self.check, self.admin
        token_pk, token = self.state.get("token_pk"), self.state.get("token")
        c.require(token_pk, "a token was issued in the admin")
        page = admin.get("/admin/realms/apitoken/")
        r = admin.post(
            "/admin/realms/apitoken/", {"action": "revoke_tokens", "_selected_action": [token_pk]}, form_page=page
        )
        c.status(r, 302, "the 'Revoke selected API tokens' action redirects")
        c.ok("1 API token(s) revoked." in admin.get("/admin/realms/apitoken/").text, "  and says 1 token revoked")
        r = SCIMClient(self.state.get("scim_root", self.live_url(self.quickstart["scim_root_url"])), token)(
            "GET", "/Users"
        )
        c.status(r, 401, "the revoked token gets 401", stop=False)

    def log_out(self) -> None:
        c, admin = self.check, self.admin
        url = self.state.get("logout_url")
        c.require(url, "the top bar had a log-out form")
        page = admin.get("/realms/")
        c.status(page, 200, "GET /realms/ is 200 (still signed in)")
        r = admin.post(url, {}, form_page=page)
        c.ok(r.status_code in (200, 302), f"POST {url} (the top bar's Log out) is 200 or a redirect", explain(r))
        after = admin.get("/realms/")
        c.status(after, 302, "GET /realms/ afterwards redirects to a login page: signed out", stop=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="where the host's server listens, e.g. http://127.0.0.1:8711")
    parser.add_argument("--manage", required=True, help="the host's manage.py (run with this interpreter)")
    parser.add_argument("--quickstart", required=True, help="file holding what `scim_quickstart --json` printed")
    parser.add_argument("--admin", required=True, help="username of the host's superuser")
    parser.add_argument("--password", required=True, help="its password")
    parser.add_argument(
        "--user-admin", required=True, help="admin path of the host's user model: auth/user, users/user"
    )
    parser.add_argument(
        "--printed-base",
        help="base URL the host's commands print (REALMS['PUBLIC_BASE_URL'], else the default "
        "http://127.0.0.1:8000); default: --base-url",
    )
    parser.add_argument(
        "--layout-marker",
        help="text of the host's own layout, when it overrides realms/base.html to put the pages in it",
    )
    args = parser.parse_args(argv)
    return Exercise(args).run()


if __name__ == "__main__":
    sys.exit(main())
