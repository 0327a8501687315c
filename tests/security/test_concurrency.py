"""Races and faults against a real multi-worker server (gunicorn, 4 workers) on PostgreSQL, started by the tests.

Nothing is mocked: the requests travel over HTTP to separate worker processes sharing one PostgreSQL database,
which is where the races of a load-balanced deployment happen.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from realms.models import RealmGroupMembership, RealmUser

from ..factories import RealmFactory, RealmGroupFactory, RealmUserFactory
from ..scim.conftest import okta_user, patch_op, scim_token
from ..system_programs import free_ports, postgresql_bin_dir

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def database_url(settings_dict: dict) -> str:
    return (
        f"postgres://{settings_dict['USER']}:{settings_dict.get('PASSWORD') or ''}@{settings_dict['HOST']}:"
        f"{settings_dict['PORT']}/{settings_dict['NAME']}"
    )


class Server:
    def __init__(self, url: str, root: str, token: str, process: subprocess.Popen) -> None:
        self.url, self.root, self.token, self.process = url, root, token, process

    def call(self, method: str, path: str, body=None, timeout: float = 30) -> tuple[int, dict, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{self.root}{path}", data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Content-Type", "application/scim+json; charset=utf-8")
        request.add_header("Accept", "application/scim+json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
                return response.status, dict(response.headers), json.loads(raw) if raw else {}
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, dict(error.headers), json.loads(raw) if raw else {}


def start_gunicorn(database: str, port: int, workers: int = 4) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "DEBUG": "0",
        "HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": "test-only-" + "x" * 60,
        "CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "console.wsgi:application",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_ready(url: str, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"gunicorn did not become ready: {process.stderr.read().decode()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def server(transactional_db):
    if shutil.which("gunicorn", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("gunicorn is not installed (it is a project dependency)")
    realm = RealmFactory(scim_enabled=True)
    token = scim_token()
    port = free_ports()[0]
    process = start_gunicorn(database_url(connection.settings_dict), port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield Server(url, f"/api/realms/{realm.pk}/scim/v2", token, process)
    finally:
        stop(process)


def parallel(calls, workers: int = 20):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_parallel_posts_of_one_username_create_exactly_one_user(server):
    results = parallel([lambda: server.call("POST", "/Users", okta_user("race@example.com"))] * 20)
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [201] + [409] * 19, statuses
    for status, _, body in results:
        if status == 409:
            assert body["scimType"] == "uniqueness"
    assert RealmUser.objects.filter(username__iexact="race@example.com").count() == 1


def test_parallel_membership_patches_add_up(server):
    realm_pk = server.root.split("/")[3]
    group = RealmGroupFactory(realm_id=realm_pk)
    users = [RealmUserFactory(realm_id=realm_pk) for _ in range(60)]
    # Every client adds its own 10 users and removes the first 2 of another client's batch.
    batches = [users[i * 10 : (i + 1) * 10] for i in range(6)]
    for u in users[:60:10] + users[1:60:10]:  # pre-existing members that will be removed
        RealmGroupMembership.objects.get_or_create(group=group, user=u)

    def client(i: int):
        ops = [{"op": "add", "path": "members", "value": [{"value": str(u.pk)} for u in batches[i][2:]]}]
        victim = batches[(i + 1) % 6]
        ops += [{"op": "remove", "path": f'members[value eq "{u.pk}"]'} for u in victim[:2]]
        return lambda: server.call("PATCH", f"/Groups/{group.pk}", patch_op(*ops))

    results = parallel([client(i) for i in range(6)])
    assert all(status == 204 for status, _, _ in results), [(s, b) for s, _, b in results]  # group PATCH: no body
    expected = {u.pk for batch in batches for u in batch[2:]}
    assert set(RealmGroupMembership.objects.filter(group=group).values_list("user_id", flat=True)) == expected


def test_parallel_put_and_patch_on_one_user(server):
    status, _, created = server.call("POST", "/Users", okta_user("busy@example.com"))
    assert status == 201
    titles = [f"title {i}" for i in range(16)]

    def put(title):
        body = okta_user("busy@example.com") | {"title": title}
        return lambda: server.call("PUT", f"/Users/{created['id']}", body)

    def patch(title):
        return lambda: server.call(
            "PATCH", f"/Users/{created['id']}", patch_op({"op": "replace", "path": "title", "value": title})
        )

    results = parallel([put(t) if i % 2 else patch(t) for i, t in enumerate(titles)])
    assert all(status == 200 for status, _, _ in results), [s for s, _, _ in results]
    status, _, final = server.call("GET", f"/Users/{created['id']}")
    assert final["title"] in titles
    assert int(final["meta"]["version"].strip('W/"')) > int(created["meta"]["version"].strip('W/"'))
    user = RealmUser.objects.get(pk=created["id"])
    assert user.attributes["title"] == final["title"]


def test_parallel_puts_each_write_one_version_and_one_audit_event(server):
    """Okta's profile updates are written without a lock when nobody wrote the user since it was read (compare and
    swap), under the lock otherwise: 16 PUTs at once, each changing the title, make 16 versions and 16 audit
    events, none lost or merged, and the user ends with the title of the last event."""
    from realms.models import AuditEvent

    status, _, created = server.call("POST", "/Users", okta_user("racer@example.com"))
    assert status == 201
    titles = [f"title {i}" for i in range(16)]

    def put(title):
        body = okta_user("racer@example.com") | {"title": title, "emails": [{"value": f"{title}@x.org"}]}
        return lambda: server.call("PUT", f"/Users/{created['id']}", body)

    results = parallel([put(t) for t in titles])
    assert all(status == 200 for status, _, _ in results), [s for s, _, _ in results]
    versions = sorted(int(body["meta"]["version"].strip('W/"')) for _, _, body in results)
    first = int(created["meta"]["version"].strip('W/"'))
    assert versions == list(range(first + 1, first + 17))  # each PUT its own version
    events = list(AuditEvent.objects.filter(resource_id=created["id"], action="user.updated").order_by("id"))
    assert len(events) == 16
    user = RealmUser.objects.get(pk=created["id"])
    assert user.version == first + 16 and user.attributes["title"] == events[-1].changes["title"]["new"]
    assert [e.value for e in user.emails.all()] == [f"{user.attributes['title']}@x.org"]  # one PUT's emails


def test_database_error_in_the_middle_of_a_patch_stores_nothing_and_a_retry_succeeds(server):
    realm_pk = server.root.split("/")[3]
    group = RealmGroupFactory(realm_id=realm_pk, display_name="Before")
    first, poisoned = RealmUserFactory(realm_id=realm_pk), RealmUserFactory(realm_id=realm_pk)
    with connection.cursor() as cursor:  # a real PostgreSQL failure, raised by the database mid-transaction
        cursor.execute(
            "CREATE FUNCTION fail_membership() RETURNS trigger AS $$ BEGIN "
            f"IF NEW.user_id = '{poisoned.pk}' THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$ "
            "LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER fail_membership BEFORE INSERT ON realms_realmgroupmembership "
            "FOR EACH ROW EXECUTE FUNCTION fail_membership()"
        )
    body = patch_op(
        {"op": "replace", "value": {"displayName": "After"}},
        {"op": "add", "path": "members", "value": [{"value": str(first.pk)}, {"value": str(poisoned.pk)}]},
    )
    try:
        status, _, error = server.call("PATCH", f"/Groups/{group.pk}", body)
        assert status == 500
        assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and "Retry" in error["detail"]
        group.refresh_from_db()
        assert group.display_name == "Before"
        assert not RealmGroupMembership.objects.filter(group=group).exists()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER fail_membership ON realms_realmgroupmembership")
            cursor.execute("DROP FUNCTION fail_membership()")
    status, _, _ = server.call("PATCH", f"/Groups/{group.pk}", body)
    assert status == 204
    group.refresh_from_db()
    assert group.display_name == "After"
    assert RealmGroupMembership.objects.filter(group=group).count() == 2


@pytest.fixture
def pg_bin_dir() -> Path:
    return postgresql_bin_dir()


def test_database_going_away_and_coming_back(transactional_db, pg_bin_dir, postgres_home):
    """A PostgreSQL server of its own, stopped and started under a running gunicorn: 503 with Retry-After while
    it is down, and the same workers serve again once it is back, without a restart."""
    bin_dir = pg_bin_dir
    tmp_path = postgres_home
    data = tmp_path / "pg"
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(
        [*run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    pg_port = free_ports()[0]
    pg_ctl = [
        *run_as,
        str(bin_dir / "pg_ctl"),
        "-D",
        str(data),
        "-w",
        "-o",
        f"-p {pg_port} -k {tmp_path} -c listen_addresses=127.0.0.1 -c fsync=off",
    ]
    subprocess.run([*pg_ctl, "-l", str(tmp_path / "log"), "start"], check=True, capture_output=True)
    url = f"postgres://postgres@127.0.0.1:{pg_port}/postgres"
    env = {**os.environ, "DATABASE_URL": url}
    process = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        token = json.loads(
            subprocess.run(
                [sys.executable, "manage.py", "scim_quickstart", "--realm", "Outage", "--json"],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        port = free_ports()[0]
        process = start_gunicorn(url, port, workers=2)
        server = Server(
            f"http://127.0.0.1:{port}", f"/api/realms/{token['realm_uuid']}/scim/v2", token["token"], process
        )
        wait_ready(server.url, process)
        assert server.call("GET", "/Users")[0] == 200
        subprocess.run([*pg_ctl, "-m", "fast", "stop"], check=True, capture_output=True)
        for _ in range(3):
            status, headers, body = server.call("GET", "/Users")
            assert status == 503, body
            assert headers.get("Retry-After", "").isdigit()
            assert body["status"] == "503"
        status, _, _ = server.call("POST", "/Users", okta_user("during@example.com"))
        assert status == 503
        subprocess.run([*pg_ctl, "-l", str(tmp_path / "log"), "start"], check=True, capture_output=True)
        for _ in range(3):
            assert server.call("GET", "/Users")[0] == 200
        assert server.call("POST", "/Users", okta_user("after@example.com"))[0] == 201
        assert process.poll() is None  # the same gunicorn, never restarted
    finally:
        if process is not None:
            stop(process)
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True)
