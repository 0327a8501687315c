"""Run the benchmarks: `.venv/bin/python benchmarks/run.py [floor|scale|compare|okta|all]` (see README.md).

Each benchmark starts what it needs itself: a PostgreSQL server of its own (port 54340 by default, data under
benchmarks/data/), the app under gunicorn with the repository's gunicorn.conf.py, and the seed data. Results go
to benchmarks/results/<name>.json, with the machine they were measured on.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import djscim2
from harness import (
    DATA,
    PROJECT_PYTHON,
    RESULTS,
    ROOT,
    Client,
    CPUMeter,
    Gunicorn,
    PhaseResult,
    Postgres,
    log,
    machine,
    median_latency,
    project_env,
    quote_filter,
    run_concurrently,
    write_result,
)

# gunicorn's ports, ours and django-scim2's (--ports): set once by main() before any benchmark starts.
OUR_PORT = 8601
THEIR_PORT = 8602


# ---------------------------------------------------------------------------------------------- our server


def sqlite_url(name: str) -> str:
    """A fresh SQLite database file under benchmarks/data/ (with its WAL files removed)."""
    path = DATA / f"{name}.sqlite3"
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def prepare_ours(pg: Postgres, database: str, *, fresh: bool = True, url: str | None = None) -> str:
    if url is None:
        url = pg.fresh_database(database) if fresh or not pg.has_database(database) else pg.url(database)
    log(f"migrating {database}")
    subprocess.run(
        [str(PROJECT_PYTHON), "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=project_env(url), check=True
    )
    return url


def seed_ours(url: str, realm: str, users: int, group_members: int = 0, prefix: str = "user") -> dict[str, Any]:
    log(f"seeding realm {realm!r}: {users} users, a group of {group_members}")
    out = subprocess.run(
        [
            *(str(PROJECT_PYTHON), "benchmarks/seed.py", "--realm", realm, "--users", str(users)),
            *("--group-members", str(group_members), "--prefix", prefix),
        ],
        cwd=ROOT,
        env=project_env(url),
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def ours(url: str, workers: int) -> Gunicorn:
    return Gunicorn(python=PROJECT_PYTHON, cwd=ROOT, port=OUR_PORT, workers=workers, env=project_env(url))


def our_root(realm: str) -> str:
    return f"http://127.0.0.1:{OUR_PORT}/api/realms/{realm}/scim/v2"


# ---------------------------------------------------------------------------------------------- Okta workload


def okta_user(username: str, i: int, family: str = "Doe") -> dict[str, Any]:
    """What Okta POSTs (shared/idp-notes.md), without the placeholder password: see docs/performance.md."""
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": username,
        "name": {"givenName": "Jane", "familyName": f"{family}{i}"},
        "emails": [{"primary": True, "value": username, "type": "work"}],
        "displayName": f"Jane {family}{i}",
        "locale": "en-US",
        "externalId": f"00unew{i:010d}",
        "groups": [],
        "active": True,
    }


def lookup_path(username: str) -> str:
    expression = 'userName eq "' + username + '"'
    return f"/Users?filter={quote_filter(expression)}&startIndex=1&count=100"


def okta_workload(
    root: str,
    token: str,
    users: int,
    concurrency: int,
    *,
    list_passes: int = 5,
    groups: int = 10,
    phases: tuple[str, ...] = ("push", "lookups", "list", "put", "later push", "groups"),
    slices: int = 1,
) -> Iterator[tuple[str, int, int, PhaseResult]]:
    """Okta's push and import, phase by phase, each phase in up to `slices` consecutive parts of its jobs (a
    generator, so that two servers can take turns slice by slice): yields (phase, slice index, slices of the phase,
    result)."""

    def client() -> Client:
        return Client(root, token)

    created: dict[int, tuple[str, str]] = {}

    def push(c: Client, i: int) -> int:
        username = f"new{i:07d}@example.com"
        found = c.call("GET", lookup_path(username))
        assert found["totalResults"] == 0, found
        body = c.call("POST", "/Users", okta_user(username, i), expect=(201,))
        created[i] = (str(body["id"]), username)
        return 2

    def lookup(c: Client, i: int) -> int:
        found = c.call("GET", lookup_path(created[i][1]))
        assert found["totalResults"] == 1, found
        return 1

    def list_page(c: Client, start: int) -> int:
        page = c.call("GET", f"/Users?startIndex={start}&count=100")
        assert page["Resources"], page
        return 1

    def put(c: Client, i: int) -> int:
        user_id, username = created[i]
        body = dict(okta_user(username, i, family="Smith"), id=user_id)
        c.call("PUT", f"/Users/{user_id}", body)
        return 1

    def push_group(c: Client, g: int) -> int:
        group = c.call("POST", "/Groups", {"displayName": f"Okta group {g}", "members": []}, expect=(201,))
        ids = [created[i][0] for i in range(users)]
        # 100 distinct users (all of them in a realm of fewer): django-scim2 refuses a PATCH naming one twice.
        members = [{"value": ids[(g * 100 + k) % len(ids)]} for k in range(min(100, len(ids)))]
        patch = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": members}],
        }
        c.call("PATCH", f"/Groups/{group['id']}", patch, expect=(200, 204))
        return 2

    def phase(name: str, jobs: list[Any], work: Any, threads: int) -> Iterator[tuple[str, int, int, PhaseResult]]:
        # Slices of at least 100 jobs: a slice ends with fewer requests in flight than clients (its last few), which
        # costs the faster server more of its shorter slice; past 100 jobs that stays under about 1 %. The list of
        # pages (50) and the groups (10) run whole.
        count = max(1, min(slices, len(jobs) // 100))
        for k in range(count):
            part = jobs[k * len(jobs) // count : (k + 1) * len(jobs) // count]
            yield name, k, count, run_concurrently(name, part, work, client, threads)

    order = list(range(users))
    shuffled = random.Random(7).sample(order, len(order))
    if "push" in phases:
        yield from phase("push (lookup + POST)", order, push, concurrency)
    if "lookups" in phases:
        yield from phase("lookups", shuffled, lookup, concurrency)
    if "list" in phases:
        total = client().call("GET", "/Users?startIndex=1&count=1")["totalResults"]
        starts = [s for _ in range(list_passes) for s in range(1, total + 1, 100)]
        yield from phase("list (pages of 100)", starts, list_page, concurrency)
    if "put" in phases:
        yield from phase("PUT updates", shuffled, put, concurrency)
    if "later push" in phases:
        # U more users into the realm of U, on tables analysed since the first push: Okta's everyday push of new
        # hires into an existing realm (the first push above runs while the tables have no statistics yet).
        yield from phase("later push (lookup + POST)", [users + i for i in order], push, concurrency)
    if "groups" in phases:
        yield from phase("groups (POST + PATCH 100 members)", list(range(groups)), push_group, min(concurrency, groups))


# ---------------------------------------------------------------------------------------------- benchmarks


def bench_floor(pg: Postgres, args: argparse.Namespace) -> dict[str, Any]:
    """Median latency of a userName lookup and of GET /Users/{id} against /api/whoami, one run, same server."""
    url = prepare_ours(pg, "bench_floor")
    seeded = seed_ours(url, "Floor", args.users, group_members=min(args.users, 100))
    workers = args.workers[0]
    with ours(url, workers):
        c = Client(our_root(seeded["realm"]), seeded["token"])
        whoami = Client(f"http://127.0.0.1:{OUR_PORT}", seeded["token"], accept="application/json")
        sample = seeded["sample"]
        samples: dict[str, list[float]] = {"whoami": [], "lookup": [], "get": []}
        calls = {
            "whoami": lambda k: whoami.call("GET", "/api/whoami"),
            "lookup": lambda k: c.call("GET", lookup_path(sample[k % len(sample)][1])),
            "get": lambda k: c.call("GET", f"/Users/{sample[k % len(sample)][0]}"),
        }
        for call in calls.values():  # warm up every path (imports, connections, caches)
            median_latency(lambda call=call: call(0), repeat=1, warmup=20)
        # Interleaved rounds, so that noise from the shared machine falls on all three alike.
        for k in range(args.rounds):
            for name, call in calls.items():
                samples[name] += median_latency(lambda call=call, k=k: call(k), repeat=1, warmup=0)
    medians = {name: statistics.median(v) for name, v in samples.items()}
    result = {
        "benchmark": "floor",
        "machine": machine(),
        "workers": workers,
        "users": args.users,
        "rounds": args.rounds,
        "median_ms": {k: round(v, 3) for k, v in medians.items()},
        "p90_ms": {k: round(statistics.quantiles(v, n=10)[-1], 3) for k, v in samples.items()},
        "ratio_to_whoami": {k: round(medians[k] / medians["whoami"], 2) for k in ("lookup", "get")},
        "target": "lookup and get within 1.3x of whoami",
    }
    return result


def _membership_patch(group: str, ids: list[str], remove: bool) -> dict[str, Any]:
    """Okta's membership update: the group's own name again, then 100 changes."""
    ops: list[dict[str, Any]] = [{"op": "replace", "value": {"id": group, "displayName": "Everyone"}}]
    if remove:
        ops += [{"op": "remove", "path": f'members[value eq "{i}"]'} for i in ids]
    else:
        ops.append({"op": "add", "path": "members", "value": [{"value": i} for i in ids]})
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops}


AFTER_A_CHANGE = "deep page, just after a change"


def _come_and_go(client: Client, k: int) -> None:
    """A user created then deleted: the realm's lists change (and change back), so no page start is known."""
    body = client.call("POST", "/Users", okta_user(f"transient{k:07d}@example.com", k), expect=(201,))
    client.call("DELETE", f"/Users/{body['id']}", expect=(204,))


def bench_scale(pg: Postgres, args: argparse.Namespace) -> dict[str, Any]:
    """The same calls on a realm of 1,000 users (a group of 500) and of 100,000 users (a group of 50,000)."""
    database = "bench_scale"
    reuse = args.reuse and pg.has_database(database)
    url = prepare_ours(pg, database, fresh=not reuse)
    small = seed_ours(url, "Small", 1000, group_members=500, prefix="small")
    large = seed_ours(url, "Large", args.scale_users, group_members=args.scale_users // 2, prefix="large")
    calls: list[tuple[str, str, Any]] = []
    with ours(url, args.workers[0]):
        for label, seeded in (("1k", small), ("large", large)):
            c = Client(our_root(seeded["realm"]), seeded["token"])
            sample = seeded["sample"]
            n = seeded["users"]
            outside = seeded["outside_group"][:100]
            group = seeded["group"]
            calls += [
                (label, "userName eq lookup", lambda k, c=c, s=sample: c.call("GET", lookup_path(s[k % len(s)][1]))),
                (label, "first page of 100", lambda k, c=c: c.call("GET", "/Users?startIndex=1&count=100")),
                (
                    label,
                    "middle page of 100",
                    lambda k, c=c, n=n: c.call("GET", f"/Users?startIndex={n // 2}&count=100"),
                ),
                (label, "last page of 100", lambda k, c=c, n=n: c.call("GET", f"/Users?startIndex={n - 99}&count=100")),
                (
                    # A deep page never asked before: where it starts is unknown, its rows before are skipped.
                    label,
                    "deep page, first time asked",
                    lambda k, c=c, n=n: c.call(
                        "GET", f"/Users?startIndex={n // 2 + (k * 7919) % (n // 2 - 100)}&count=100"
                    ),
                ),
                (
                    # The worst case: a deep page right after a user came and went (nothing remembered holds).
                    label,
                    AFTER_A_CHANGE,
                    lambda k, c=c, n=n: c.call(
                        "GET", f"/Users?startIndex={n // 2 + (k * 7919) % (n // 2 - 100)}&count=100"
                    ),
                ),
                (
                    # Okta's import from the middle on: each page follows the previous one (served by any worker).
                    label,
                    "next page of an import",
                    lambda k, c=c, n=n: c.call(
                        "GET", f"/Users?startIndex={n // 2 + 1 + (k * 100) % (n // 2 - 100)}&count=100"
                    ),
                ),
                (
                    label,
                    "PATCH 100 member changes",
                    lambda k, c=c, g=group, o=outside: c.call(
                        "PATCH", f"/Groups/{g}", _membership_patch(g, o, remove=bool(k % 2)), expect=(204,)
                    ),
                ),
                (
                    label,
                    "GET /Groups excludedAttributes=members",
                    lambda k, c=c: c.call("GET", "/Groups?excludedAttributes=members"),
                ),
            ]
        for _, _, call in calls:
            for k in range(4):  # warm up; an even number of PATCHes leaves the group as it was
                call(k)
        # Round-robin over every call of both realms, so that noise from a shared machine falls on all alike.
        samples: dict[tuple[str, str], list[float]] = {(label, name): [] for label, name, _ in calls}
        steady = [c for c in calls if c[1] != AFTER_A_CHANGE]
        for k in range(args.rounds):
            for label, name, call in steady:
                started = time.perf_counter()
                call(k)
                samples[(label, name)].append((time.perf_counter() - started) * 1000)
        # Apart, since a change makes every remembered page start obsolete: each round, a user comes and goes in
        # the realm, then a deep page is asked (both realms in turn).
        for k in range(args.rounds):
            for label, name, call in calls:
                if name == AFTER_A_CHANGE:
                    seeded = small if label == "1k" else large
                    _come_and_go(Client(our_root(seeded["realm"]), seeded["token"]), k)
                    started = time.perf_counter()
                    call(k)
                    samples[(label, name)].append((time.perf_counter() - started) * 1000)
        if args.rounds % 2:
            for _, name, call in calls:
                if name.startswith("PATCH"):
                    call(1)  # leave the groups as they were
    measured: dict[str, dict[str, float]] = {"1k": {}, "large": {}}
    for (label, name), values in samples.items():
        measured[label][name] = statistics.median(values)
        log(f"  {label:>5} {name:<40} {measured[label][name]:8.2f} ms")
    return {
        "benchmark": "scale",
        "machine": machine(),
        "workers": args.workers[0],
        "rounds": args.rounds,
        "realms": {
            "1k": {"users": 1000, "group": 500},
            "large": {"users": args.scale_users, "group": args.scale_users // 2},
        },
        "median_ms": {k: {n: round(v, 2) for n, v in d.items()} for k, d in measured.items()},
        "ratio_large_to_1k": {n: round(measured["large"][n] / measured["1k"][n], 2) for n in measured["1k"]},
        "target": "each within 1.2x of the 1k realm",
    }


def bench_compare(pg: Postgres, args: argparse.Namespace) -> dict[str, Any]:
    """The Okta workload against our server and django-scim2: same machine, database server, worker count.

    Both servers run side by side and take turns slice by slice (`--slices` parts of each phase: ours, then
    django-scim2, then ours again), so that load from elsewhere on a shared machine, and this VM's speed, which
    changes within seconds, fall on both alike; an idle server costs nothing. A phase's figures are the sums over
    its slices (requests over seconds; CPU over requests).

    Between two phases both databases are analysed (`ANALYZE`, outside the measured time), as autovacuum does on a
    running server within a minute of a table growing by a tenth: the push fills an empty table in seconds, and
    without it the later phases would run on the plans PostgreSQL made for an empty table (a sequential scan
    where an index serves a grown one) for both servers. The push itself starts on a database never analysed,
    as a fresh install's first push does (benchmarks/seed.py): PostgreSQL plans its statements for tables of a few
    rows until autovacuum first analyses them (within seconds to a minute on a running server). The later push
    adds U more users on analysed tables, as Okta's everyday pushes of new hires do.
    """
    runs: dict[str, Any] = {}
    djscim2.ensure_installed()
    for workers in args.workers:
        concurrency = args.concurrency or workers * 2
        if args.sqlite:
            url, their_url = sqlite_url("bench_compare_ours"), sqlite_url("bench_compare_djscim2")
            url = prepare_ours(pg, "bench_compare_ours", url=url)
        else:
            url = prepare_ours(pg, "bench_compare_ours")
            their_url = pg.fresh_database("bench_compare_djscim2")
        seeded = seed_ours(url, "Okta", 0)
        token = djscim2.prepare(their_url, 0)
        their_server = Gunicorn(
            python=djscim2.PYTHON,
            cwd=djscim2.PROJECT,
            port=THEIR_PORT,
            workers=workers,
            env={
                "DATABASE_URL": their_url,
                "PATH": "/usr/bin:/bin",
                # The same database driver settings as ours (prepared statements), unless --their-defaults.
                "PREPARE_THRESHOLD": "off" if args.their_defaults else "5",
            },
            config=None,
            wsgi_app="bench_site.wsgi:application",
        )
        log(f"{workers} workers each, {args.users} users, {concurrency} clients")
        phases = {}
        with ours(url, workers) as our_server, their_server:
            our_root_url, their_root_url = our_root(seeded["realm"]), f"http://127.0.0.1:{THEIR_PORT}/scim/v2"
            our_phases = okta_workload(our_root_url, seeded["token"], args.users, concurrency, slices=args.slices)
            their_phases = okta_workload(their_root_url, token, args.users, concurrency, slices=args.slices)
            our_meter, their_meter = CPUMeter(our_server, pg), CPUMeter(their_server, pg)
            our_parts: list[tuple[PhaseResult, dict[str, float]]] = []
            their_parts: list[tuple[PhaseResult, dict[str, float]]] = []
            while True:  # slice by slice, ours then theirs, each with the CPU it cost
                our_meter.start()
                name, k, count, o = next(our_phases, (None, 0, 0, None))
                if o is None:
                    break
                our_parts.append((o, our_meter.per_request(o.requests)))
                their_meter.start()
                t = next(their_phases)[3]
                their_parts.append((t, their_meter.per_request(t.requests)))
                if k < count - 1:
                    continue
                (o, our_cpu), (t, their_cpu) = combined(our_parts), combined(their_parts)
                our_parts, their_parts = [], []
                if not args.sqlite:  # SQLite plans every statement when it is prepared: nothing cached to renew
                    for database in ("bench_compare_ours", "bench_compare_djscim2"):
                        pg.psql("ANALYZE", database)
                phases[name] = {
                    "ours_rps": round(o.rps, 1),
                    "django_scim2_rps": round(t.rps, 1),
                    "ratio": round(o.rps / t.rps, 2) if t.rps else None,
                    "ours": {**o.as_dict(), "cpu_ms_per_request": our_cpu},
                    "django_scim2": {**t.as_dict(), "cpu_ms_per_request": their_cpu},
                }
                log(f"  {name:<36} ours {o.rps:8.1f}/s   django-scim2 {t.rps:8.1f}/s   x{o.rps / t.rps:.2f}")
                log(f"  {'':<36} CPU ms/request ours {our_cpu}   django-scim2 {their_cpu}")
            rss = {"ours": our_server.peak_rss_mib(), "django_scim2": their_server.peak_rss_mib()}
        runs[str(workers)] = {"concurrency": concurrency, "phases": phases, "peak_rss_mib_per_worker": rss}
    return {
        "benchmark": "compare",
        "machine": machine(),
        "django_scim2_version": djscim2.version(),
        "django_scim2_prepared_statements": not args.their_defaults and not args.sqlite,
        "database": "sqlite" if args.sqlite else "postgresql",
        "users": args.users,
        "slices_per_phase": args.slices,
        "runs": runs,
    }


def combined(parts: list[tuple[PhaseResult, dict[str, float]]]) -> tuple[PhaseResult, dict[str, float]]:
    """One phase's slices as one result: requests and seconds summed, CPU per request weighted by requests."""
    first = parts[0][0]
    result = PhaseResult(
        first.name,
        sum(r.requests for r, _ in parts),
        sum(r.seconds for r, _ in parts),
        [ms for r, _ in parts for ms in r.latencies_ms],
    )
    cpu = {who: round(sum(c[who] * r.requests for r, c in parts) / max(result.requests, 1), 3) for who in parts[0][1]}
    return result, cpu


def bench_okta(pg: Postgres, args: argparse.Namespace) -> dict[str, Any]:
    """A 10,000-user Okta push (lookup + POST) and import (paged GETs): wall time and peak memory per worker."""
    runs = {}
    for workers in args.workers:
        concurrency = args.concurrency or workers * 2
        url = prepare_ours(pg, "bench_okta")
        seeded = seed_ours(url, "Okta", 0)
        root = our_root(seeded["realm"])
        log(f"Okta push and import of {args.okta_users} users, {workers} workers, {concurrency} clients")
        with ours(url, workers) as server:
            phases = okta_workload(
                root, seeded["token"], args.okta_users, concurrency, list_passes=1, phases=("push", "list")
            )
            results = {name: result for name, _, _, result in phases}
            rss = server.peak_rss_mib()
        push, imported = results["push (lookup + POST)"], results["list (pages of 100)"]
        runs[str(workers)] = {
            "concurrency": concurrency,
            "push_seconds": round(push.seconds, 1),
            "push_rps": round(push.rps, 1),
            "import_seconds": round(imported.seconds, 2),
            "import_pages": imported.requests,
            "import_median_page_ms": round(imported.median_ms, 1),
            "peak_rss_mib_per_worker": [round(x, 1) for x in rss],
            "phases": {name: r.as_dict() for name, r in results.items()},
        }
        log(f"  push {push.seconds:.1f}s, import {imported.seconds:.1f}s, peak RSS {rss}")
    return {"benchmark": "okta", "machine": machine(), "users": args.okta_users, "runs": runs}


BENCHMARKS = {"floor": bench_floor, "scale": bench_scale, "compare": bench_compare, "okta": bench_okta}

# The ratios a target is judged on, per benchmark that --repeat runs again.
RATIOS = {
    "floor": lambda r: r["ratio_to_whoami"],
    "compare": lambda r: {w: {name: p["ratio"] for name, p in run["phases"].items()} for w, run in r["runs"].items()},
}


def spread(values: list[Any]) -> Any:
    """The ratios of several runs (nested dicts of the same keys) as one nested dict whose leaves are
    {"runs": [each run's], "median", "min", "max"}."""
    if isinstance(values[0], dict):
        return {key: spread([v[key] for v in values]) for key in values[0]}
    return {"runs": values, "median": round(statistics.median(values), 3), "min": min(values), "max": max(values)}


def main() -> None:
    global OUR_PORT, THEIR_PORT  # the servers' ports, set once from the command line (--ports)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmarks", nargs="*", default=["all"], choices=[*BENCHMARKS, "all"])
    parser.add_argument("--users", type=int, default=1000, help="U of the Okta workload and of the floor realm")
    parser.add_argument("--okta-users", type=int, default=10_000, help="users of the Okta push/import")
    parser.add_argument("--scale-users", type=int, default=100_000, help="users of the large realm")
    parser.add_argument("--workers", default="2,4", help="gunicorn worker counts, comma-separated")
    parser.add_argument("--concurrency", type=int, default=0, help="client threads (default: 2 per worker)")
    parser.add_argument("--rounds", type=int, default=200, help="requests per measured call (floor, scale)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="floor, compare: run N times in a row; the result is the last run, with every run's ratios and their "
        "median, min and max under 'repeats'",
    )
    parser.add_argument(
        "--slices", type=int, default=5, help="compare: parts of each phase, the two servers taking turns at each"
    )
    parser.add_argument("--pg-port", type=int, default=54340)
    parser.add_argument(
        "--ports",
        default=f"{OUR_PORT},{THEIR_PORT}",
        help="gunicorn's ports: ours, django-scim2's (compare), comma-separated",
    )
    parser.add_argument("--pg-data", type=Path, help="PostgreSQL's data directory (default benchmarks/data/pg-<port>)")
    parser.add_argument("--reuse", action="store_true", help="scale: reuse the seeded database of a previous run")
    parser.add_argument("--keep-postgres", action="store_true", help="leave the PostgreSQL server running")
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS,
        help="directory of the <benchmark>.json results (default benchmarks/results, the figures of the docs)",
    )
    parser.add_argument(
        "--sqlite",
        action="store_true",
        help="compare: both servers on SQLite files (our SQLite options for both) instead of PostgreSQL",
    )
    parser.add_argument(
        "--their-defaults",
        action="store_true",
        help="compare: run django-scim2 with Django's default database options (no prepared statements)",
    )
    args = parser.parse_args()
    args.workers = [int(w) for w in args.workers.split(",")]
    if args.repeat < 1:
        parser.error("--repeat takes a number of runs, 1 or more")
    try:
        OUR_PORT, THEIR_PORT = (int(p) for p in args.ports.split(","))
    except ValueError:
        parser.error(f"--ports takes two port numbers, ours and django-scim2's, not {args.ports!r}")
    names = list(BENCHMARKS) if "all" in args.benchmarks else args.benchmarks
    pg = Postgres(args.pg_port, args.pg_data).start()
    try:
        for name in names:
            started = time.monotonic()
            times = args.repeat if name in RATIOS else 1
            results = []
            for run in range(times):
                if times > 1:
                    log(f"{name}: run {run + 1} of {times}")
                results.append(BENCHMARKS[name](pg, args))
            result = results[-1]
            if times > 1:
                result["repeats"] = spread([RATIOS[name](r) for r in results])
            result["command"] = " ".join(["benchmarks/run.py", *sys.argv[1:]])
            result["duration_seconds"] = round(time.monotonic() - started, 1)
            # SQLite, and django-scim2 with Django's default database options, are recorded apart from the
            # like-for-like run on PostgreSQL.
            variant = "sqlite" if args.sqlite else "their-defaults" if args.their_defaults else None
            write_result(f"{name}-{variant}" if name == "compare" and variant else name, result, args.results)
            print(json.dumps(result, indent=2))
    finally:
        if not args.keep_postgres:
            pg.stop()


if __name__ == "__main__":
    main()
