"""What a second writing process costs a SCIM write on SQLite, in-process, no HTTP server.

Run with the project's Python and a DATABASE_URL of a throw-away SQLite file (it is migrated and seeded):

    DATABASE_URL=sqlite:////tmp/writers.sqlite3 .venv/bin/python benchmarks/sqlite_writers.py [--writers 1 2]

Each of N processes sends Okta's PUT (or POST) through Django's WSGI application, as gunicorn's workers would, each
to its own users, all on one database file; the runs of each N take turns (`--rounds`). For each process it
measures the CPU and the wall time of a call, the time spent waiting for SQLite's write lock (the `BEGIN
IMMEDIATE` of a write transaction: SQLite's busy handler sleeps 1 ms, then 2, 5… while another process holds it)
and the read and write system calls per call (`/proc/self/io`): with one process SQLite keeps the pages it read in
its cache; after another process commits, it drops that cache and reads the pages again. docs/performance.md
("Where a call's time goes") has the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import profile_calls as pc  # sets up Django with the profile's settings
from django.db import connection

CONTEXT = Path(__file__).resolve().parent / "data" / "sqlite_writers.json"  # the seeded realm, for the processes
SLOW_WAIT = 0.0005  # a wait longer than this is SQLite's busy handler sleeping, not a free lock


def io_calls() -> tuple[int, int]:
    """Read and write system calls of this process so far (0, 0 where /proc/self/io is missing)."""
    try:
        fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    except OSError:
        return 0, 0
    return int(fields["syscr"]), int(fields["syscw"])


def worker(index: int, processes: int, calls: int, kind: str) -> None:
    ctx = json.loads(CONTEXT.read_text())
    app = pc.get_wsgi_application()
    token, base = ctx["token"], ctx["base"]
    mine = ctx["ids"][index::processes][:200]  # each process its own users: no version conflicts
    representations = {}
    for user_id in mine:
        _status, body = pc.call(app, pc.environ("GET", f"{base}/Users/{user_id}", token))
        representations[user_id] = json.loads(body)

    def request(i: int) -> dict:
        if kind == "put":
            user_id = mine[i % len(mine)]
            representation = representations[user_id]
            representation["name"]["familyName"] = f"Doe{index}x{i}"
            return pc.environ("PUT", f"{base}/Users/{user_id}", token, json.dumps(representation).encode())
        name = uuid.uuid4().hex[:12]
        user = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": f"w{name}@example.com",
            "name": {"givenName": "Jane", "familyName": name},
            "emails": [{"primary": True, "value": f"w{name}@example.com", "type": "work"}],
            "displayName": "Jane",
            "externalId": f"00w{name}",
            "active": True,
        }
        return pc.environ("POST", f"{base}/Users", token, json.dumps(user).encode())

    for i in range(50):  # warm up
        pc.call(app, request(i))
    waits: list[float] = []

    def time_begin(execute, sql, params, many, context):
        if not sql.startswith("BEGIN"):
            return execute(sql, params, many, context)
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            waits.append(time.perf_counter() - start)

    requests = [request(i) for i in range(calls)]
    print("ready", flush=True)
    sys.stdin.readline()  # all processes start together
    reads, writes = io_calls()
    cpu, wall = time.process_time(), time.perf_counter()
    failed = 0
    with connection.execute_wrapper(time_begin):
        for env in requests:
            status, _body = pc.call(app, env)
            failed += not status.startswith(("200", "201"))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    reads_after, writes_after = io_calls()
    reads, writes = reads_after - reads, writes_after - writes
    result = {
        "cpu_ms": cpu / calls * 1e3,
        "wall_ms": wall / calls * 1e3,
        "lock_wait_ms": sum(waits) / calls * 1e3,
        "slow_waits": sum(w > SLOW_WAIT for w in waits) / calls,
        "reads": reads / calls,
        "writes": writes / calls,
        "failed": failed,
    }
    print(json.dumps(result), flush=True)


def run(processes: int, calls: int, kind: str) -> dict:
    command = [sys.executable, __file__, "--worker", "--calls", str(calls), "--kind", kind]
    children = [
        subprocess.Popen(
            [*command, "--index", str(i), "--writers", str(processes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]
    for child in children:
        if child.stdout.readline().strip() != "ready":
            raise SystemExit("a writer process failed to start")
    start = time.perf_counter()
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    results = [json.loads(child.stdout.readline()) for child in children]
    elapsed = time.perf_counter() - start
    for child in children:
        child.wait()
    if any(r["failed"] for r in results):
        raise SystemExit(f"failed calls: {results}")
    mean = {key: statistics.mean(r[key] for r in results) for key in results[0] if key != "failed"}
    return {**mean, "per_second": processes * calls / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, nargs="*", default=[1, 2], help="numbers of processes to compare")
    parser.add_argument("--kind", choices=["put", "post"], nargs="*", default=["put", "post"])
    parser.add_argument("--calls", type=int, default=1500, help="calls per process and run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each set-up, taking turns")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.index, args.writers[0], args.calls, args.kind[0])
        return
    if connection.vendor != "sqlite":
        raise SystemExit("DATABASE_URL must name a throw-away SQLite file (sqlite:////tmp/writers.sqlite3)")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    CONTEXT.parent.mkdir(exist_ok=True)
    CONTEXT.write_text(json.dumps(pc.seed(args.users)))
    connection.close()
    results: dict[tuple[str, int], list[dict]] = {}
    for _ in range(args.rounds):
        for kind in args.kind:
            for processes in args.writers:
                results.setdefault((kind, processes), []).append(run(processes, args.calls, kind))
    print(f"SQLite, {args.calls} calls per process and run, medians of {args.rounds} runs")
    print(
        "call  processes  calls/s  CPU ms/call  wall ms/call  lock wait ms/call  waits >0.5 ms  reads/call  writes/call"
    )
    for (kind, processes), runs in results.items():
        m = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        print(
            f"{kind:5} {processes:9} {m['per_second']:8.0f} {m['cpu_ms']:12.3f} {m['wall_ms']:13.3f}"
            f" {m['lock_wait_ms']:18.3f} {m['slow_waits']:14.1%} {m['reads']:11.1f} {m['writes']:12.1f}"
        )


if __name__ == "__main__":
    main()
