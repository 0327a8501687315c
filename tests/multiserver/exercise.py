"""Two app servers on one PostgreSQL and one Redis, checked over HTTP; `.ci/multi-server` starts them and runs this.

    python -m tests.multiserver.exercise --server http://127.0.0.1:8801 --server http://127.0.0.1:8802

The environment is the servers' own (DATABASE_URL, CACHE_URL, SECRET_KEY, PUBLIC_BASE_URL, SCIM_RATE_LIMIT): the
setup (realms, service accounts, tokens, the test IdP's metadata) goes through the ORM and the services, as the
management commands do; every check goes over HTTP to the two servers, the way a load balancer spreads Okta's
calls and a browser's requests between them. Exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django

warnings.filterwarnings("ignore", module="saml2")  # pysaml2's own deprecation warnings, not ours
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
django.setup()

from django.contrib.sessions.models import Session  # noqa: E402
from django.core.cache import caches  # noqa: E402

from realms import services  # noqa: E402
from realms.models import Realm, RealmLoginSession  # noqa: E402

from ..realms.saml_idp import TestIdP, make_key_pair, user_attributes  # noqa: E402
from ..scim.conftest import okta_user, patch_op  # noqa: E402

SCIM_JSON = "application/scim+json; charset=utf-8"
PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400}


class CheckFailed(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch(
    method: str, url: str, *, body: Any = None, headers: dict | None = None, opener=None, form: dict | None = None
) -> Answer:
    data = None
    headers = dict(headers or {})
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    opener = opener or urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            raw, status, answer_headers = response.read(), response.status, response.headers
    except urllib.error.HTTPError as error:
        raw, status, answer_headers = error.read(), error.code, error.headers
    text = raw.decode("utf-8", "replace")
    try:
        parsed: Any = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return Answer(status, dict(answer_headers), parsed)


class SCIM:
    """Okta's side: SCIM calls to one server with a bearer token."""

    def __init__(self, server: str, realm_pk: str, token: str) -> None:
        self.server, self.root, self.token = server, f"{server}/api/realms/{realm_pk}/scim/v2", token

    def call(self, method: str, path: str, body: Any = None) -> Answer:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/scim+json"}
        if body is not None:
            headers["Content-Type"] = SCIM_JSON
        answer = fetch(method, f"{self.root}{path}", body=body, headers=headers)
        expect(answer.status < 500, f"{method} {path} on {self.server}: {answer.status} {answer.body!r:.500}")
        return answer


class Tokens:
    """Fresh API tokens for one realm, each used for fewer calls than the rate limit allows."""

    def __init__(self, realm_name: str, budget: int) -> None:
        self.realm_name, self.budget = realm_name, budget
        self.lock = threading.Lock()
        self.token, self.used = "", budget

    def next(self) -> str:
        with self.lock:
            if self.used >= self.budget:
                self.token, self.used = services.scim_quickstart(self.realm_name).token, 0
            self.used += 1
            return self.token


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    failures: int = 0

    def run(self, title: str, check, *args: Any) -> None:
        started = time.monotonic()
        print(f"-- {title}", flush=True)
        try:
            for line in check(*args) or []:
                print(f"   {line}", flush=True)
            verdict = "ok"
        except CheckFailed as exc:
            self.failures += 1
            verdict = "FAILED"
            print(f"   FAILED: {exc}", flush=True)
        self.lines.append(f"{verdict:6} {title} ({time.monotonic() - started:.1f} s)")


# ---------------------------------------------------------------------------------------------------- rate limit


def parse_rate(rate: str) -> tuple[int, int]:
    count, period = rate.split("/")
    return int(count), PERIODS[period]


def in_one_window(period: int, seconds_needed: float) -> None:
    """Wait, if need be, for a fresh window of the limit: the counts start again when the period's window ends."""
    left = period - time.time() % period
    if left < seconds_needed:
        time.sleep(left + 0.2)


def check_rate_limit(servers: list[str], rate: str) -> list[str]:
    """One token's calls to both servers: the 429 comes after exactly the limit, on either server, one after the
    other (alternating) and all at once (8 clients over 2 servers and their 4 workers)."""
    from concurrent.futures import ThreadPoolExecutor

    limit, period = parse_rate(rate)
    expect(period >= 60, "use a limit per minute or longer: the calls of one check must fit in one window")
    in_one_window(period, 10)
    realm = services.scim_quickstart("Rate limit")
    started = time.monotonic()
    for i in range(limit):
        server = servers[i % 2]
        answer = SCIM(server, str(realm.realm.pk), realm.token).call("GET", "/Users?count=1")
        expect(answer.status == 200, f"call {i + 1} of {limit} (on {server}) was {answer.status}, not 200")
    elapsed = time.monotonic() - started
    refused = []
    for i in range(limit, limit + 4):
        server = servers[i % 2]
        answer = SCIM(server, str(realm.realm.pk), realm.token).call("GET", "/Users?count=1")
        expect(answer.status == 429, f"call {i + 1} (on {server}) was {answer.status}, not 429: counts not shared")
        retry_after = answer.headers.get("Retry-After", "")
        expect(retry_after.isdigit() and 1 <= int(retry_after) <= period, f"Retry-After {retry_after!r}")
        refused.append(f":{server.rsplit(':', 1)[1]} 429 Retry-After {retry_after}")
    other = services.scim_quickstart("Rate limit")
    answer = SCIM(servers[1], str(other.realm.pk), other.token).call("GET", "/Users?count=1")
    expect(answer.status == 200, f"another token of the same realm was refused too ({answer.status})")

    in_one_window(period, 10)
    burst = services.scim_quickstart("Rate limit")

    def one(i: int) -> int:
        return SCIM(servers[i % 2], str(burst.realm.pk), burst.token).call("GET", "/Users?count=1").status

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(one, range(2 * limit)))
    expect(
        statuses.count(200) == limit and statuses.count(429) == limit,
        f"{2 * limit} concurrent calls: {statuses.count(200)} answered 200 and {statuses.count(429)} 429, "
        f"not {limit} and {limit}",
    )

    backend = type(caches["default"]).__name__
    keys = []
    if backend == "RedisCache":
        import redis

        keys = redis.Redis.from_url(os.environ["CACHE_URL"]).keys("*scim-throttle*")
        expect(bool(keys), "no rate-limit count in Redis")
    return [
        f"{limit} calls alternating between the two servers in {elapsed:.1f} s: all 200",
        f"calls {limit + 1}-{limit + 4}: " + ", ".join(refused),
        "another token of the realm: 200 (the count is per token)",
        f"{2 * limit} calls of a fresh token at once, 8 clients over both servers: {limit} x 200, {limit} x 429",
        f"counts kept in {backend}" + (f" ({len(keys)} throttle keys in Redis)" if keys else ""),
    ]


# ---------------------------------------------------------------------------------------------------- paging


def list_all(scim: SCIM, count: int, tokens: Tokens) -> tuple[list[str], list[int]]:
    """Every page of /Users in the default order; the ids, and the totalResults of each page."""
    ids: list[str] = []
    totals: list[int] = []
    start = 1
    while True:
        scim.token = tokens.next()
        answer = scim.call("GET", f"/Users?startIndex={start}&count={count}&attributes=userName")
        expect(answer.status == 200, f"page at {start}: {answer.status} {answer.body!r:.300}")
        body = answer.body
        page = [r["id"] for r in body["Resources"]]
        expect(body["startIndex"] == start, f"startIndex {body['startIndex']} for a page asked at {start}")
        expect(body["itemsPerPage"] == len(page), f"itemsPerPage {body['itemsPerPage']} for {len(page)} resources")
        ids += page
        totals.append(body["totalResults"])
        if len(page) < count or start + count > body["totalResults"]:
            return ids, totals
        start += count


def check_paging(servers: list[str], rate: str) -> list[str]:
    """Pages read on one server stay right while the other creates and deletes users.

    First in turns (each change on B, then every page on A, several times so that each of A's workers has served
    them and remembers where they start): the pages equal the truth exactly. Then at the same time: B creates and
    deletes users at the end of the list while A pages through it; the first users never move, so their pages must
    be exact, and every totalResults lies between the fewest and the most users there were.
    """
    limit, _ = parse_rate(rate)
    quickstart = services.scim_quickstart("Paging")
    realm_pk, name = str(quickstart.realm.pk), "Paging"
    reads, writes = Tokens(name, limit - 5), Tokens(name, limit - 5)
    reader, writer = SCIM(servers[0], realm_pk, ""), SCIM(servers[1], realm_pk, "")
    rng = random.Random(13)
    truth: list[str] = []

    def create(username: str) -> str:
        writer.token = writes.next()
        answer = writer.call("POST", "/Users", okta_user(username))
        expect(answer.status == 201, f"POST {username}: {answer.status} {answer.body!r:.300}")
        return answer.body["id"]

    def delete(user_id: str) -> None:
        writer.token = writes.next()
        answer = writer.call("DELETE", f"/Users/{user_id}")
        expect(answer.status == 204, f"DELETE {user_id}: {answer.status} {answer.body!r:.300}")

    for i in range(40):
        truth.append(create(f"paging-{i:03d}@example.com"))
    page_size, rounds = 7, 10
    for round_ in range(rounds):
        for _ in range(3):
            ids, totals = list_all(reader, page_size, reads)
            expect(ids == truth, f"round {round_}: the pages differ from the truth ({len(ids)} ids, {len(truth)})")
            expect(set(totals) == {len(truth)}, f"round {round_}: totalResults {sorted(set(totals))}, not {len(truth)}")
        if round_ % 2:
            truth.append(create(f"paging-new-{round_:03d}@example.com"))
        else:
            delete(truth.pop(rng.randrange(1, len(truth) - 1)))  # from the middle: every later page moves
    in_turns = f"{rounds} changes on {servers[1]}, each followed by 3 full listings on {servers[0]}: exact"

    stable = list(truth)
    stop = threading.Event()
    alive = {"now": 0, "most": 0, "created": 0}
    errors: list[str] = []

    def churn() -> None:
        try:
            i = 0
            while not stop.is_set():
                alive["now"] += 1
                alive["most"] = max(alive["most"], alive["now"])
                user_id = create(f"churn-{i:04d}@example.com")
                alive["created"] += 1
                if i % 3 != 2:  # two of three are deleted again: the list grows and shrinks at its end
                    delete(user_id)
                    alive["now"] -= 1
                i += 1
        except CheckFailed as exc:
            errors.append(str(exc))

    thread = threading.Thread(target=churn)
    thread.start()
    listings = 0
    try:
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            ids, totals = list_all(reader, page_size, reads)
            listings += 1
            expect(ids[: len(stable)] == stable, "a user created before the churn moved or vanished in the pages")
            expect(len(set(ids)) == len(ids), "a user appeared twice in one listing")
            expect(
                all(len(stable) <= t <= len(stable) + alive["most"] for t in totals),
                f"totalResults {totals} outside [{len(stable)}, {len(stable) + alive['most']}]",
            )
    finally:
        stop.set()
        thread.join()
    expect(not errors, f"the writer failed: {errors}")
    expected_total = len(stable) + alive["now"]
    for server in servers:
        ids, totals = list_all(SCIM(server, realm_pk, ""), page_size, reads)
        expect(ids[: len(stable)] == stable and len(ids) == expected_total, f"final listing on {server} is wrong")
        expect(set(totals) == {expected_total}, f"final totalResults on {server}: {sorted(set(totals))}")
    return [
        in_turns,
        f"{listings} listings on one server while the other created {alive['created']} users and deleted "
        f"{alive['created'] - alive['now']}: the first {len(stable)} users' pages exact, totalResults in bounds",
        f"afterwards both servers list the same {expected_total} users, totalResults {expected_total}",
    ]


# ---------------------------------------------------------------------------------------------------- sessions


class Browser:
    """A browser's cookie jar, used against either server (as a load balancer without sticky sessions would)."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def get(self, url: str) -> Answer:
        return fetch("GET", url, opener=self.opener)

    def post(self, url: str, form: dict) -> Answer:
        return fetch("POST", url, form=form, opener=self.opener)

    def session_key(self) -> str:
        return next((c.value for c in self.jar if c.name == "sessionid"), "")


def signed_in_as(browser: Browser, server: str) -> str | None:
    answer = browser.get(f"{server}/")
    if answer.status == 302:
        expect("/login/" in answer.headers.get("Location", ""), f"/ redirected to {answer.headers.get('Location')}")
        return None
    expect(answer.status == 200, f"GET / on {server}: {answer.status}")
    return answer.body


def check_deactivation_ends_sessions(servers: list[str]) -> list[str]:
    """Sign in with SAML on server B; Okta deactivates the user through server A; B no longer serves the session."""
    quickstart = services.scim_quickstart("Okta SAML")
    realm = Realm.objects.get(pk=quickstart.realm.pk)
    a, b = servers
    keys = make_key_pair(Path(tempfile.mkdtemp(prefix="multiserver-idp-")), "okta-idp")
    sp_metadata = fetch("GET", f"{b}/realms/{realm.pk}/saml/metadata/")
    expect(sp_metadata.status == 200, f"SP metadata: {sp_metadata.status}")
    idp = TestIdP(keys, sp_metadata.body)
    realm.idp_metadata, realm.enabled_for_login = idp.metadata, True
    realm.save()

    okta = SCIM(a, str(realm.pk), quickstart.token)
    username = "jane.multiserver@example.com"
    created = okta.call("POST", "/Users", okta_user(username))
    expect(created.status == 201, f"POST /Users: {created.status}")
    user_id = created.body["id"]

    browser = Browser()
    start = browser.get(f"{b}/realms/{realm.pk}/saml/login/?next=/")
    expect(start.status == 302, f"SAML login on {b}: {start.status} {start.body!r:.300}")
    saml_response, relay_state = idp.answer(start.headers["Location"], user_attributes(username), name_id=username)
    acs = browser.post(f"{b}/realms/{realm.pk}/saml/acs/", {"SAMLResponse": saml_response, "RelayState": relay_state})
    expect(acs.status == 302, f"ACS on {b}: {acs.status} {acs.body!r:.500}")
    session_key = browser.session_key()
    expect(bool(session_key), "no session cookie after the SAML sign-in")
    for server in (b, a):
        page = signed_in_as(browser, server)
        expect(page is not None and username in page, f"the session is not served by {server}")
    expect(RealmLoginSession.objects.filter(session_key=session_key).exists(), "the session is not tracked")

    patched = okta.call("PATCH", f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": False}}))
    expect(patched.status in (200, 204), f"PATCH active=false on {a}: {patched.status} {patched.body!r:.300}")
    expect(signed_in_as(browser, b) is None, f"{b} still serves the session of the deactivated user")
    expect(signed_in_as(browser, a) is None, f"{a} still serves the session of the deactivated user")
    expect(not Session.objects.filter(session_key=session_key).exists(), "the session row is still in the database")

    patched = okta.call("PATCH", f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": True}}))
    expect(patched.status in (200, 204), f"PATCH active=true: {patched.status}")
    expect(signed_in_as(browser, b) is None, "reactivating the user brought the old session back")
    return [
        f"SAML sign-in (test IdP, signed assertion) through {b}; the session served by both servers",
        f"PATCH active=false through {a}: the session ended on {b} and {a} (its row deleted)",
        "PATCH active=true: the ended session stays ended (a new sign-in is needed)",
    ]


# ---------------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", action="append", required=True, help="base URL of an app server (twice)")
    args = parser.parse_args(argv)
    servers = [s.rstrip("/") for s in args.server]
    if len(servers) != 2:
        parser.error("give exactly two --server URLs")
    rate = os.environ.get("SCIM_RATE_LIMIT", "")
    if not rate or "/" not in rate:
        parser.error("SCIM_RATE_LIMIT (e.g. 100/minute) must be the servers' rate limit")
    report = Report()
    started = time.monotonic()
    report.run(f"one token's rate limit ({rate}) is shared by both servers", check_rate_limit, servers, rate)
    report.run("paging and totalResults while the other server creates and deletes users", check_paging, servers, rate)
    report.run(
        "a deactivation through one server ends the console session served by the other",
        check_deactivation_ends_sessions,
        servers,
    )
    print(
        f"== {len(report.lines) - report.failures} of {len(report.lines)} checks passed "
        f"in {time.monotonic() - started:.0f} s"
    )
    for line in report.lines:
        print(f"   {line}")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
