"""The measuring scripts of benchmarks/ still run and print or write what docs/performance.md reads from them.

They are how the speed targets are measured (run.py over HTTP; profile_calls.py, write_pages.py, signals.py and
sqlite_writers.py in one process), and nothing else runs them: a change to a view, a service or the settings could
break one and leave the next engineer without an instrument. Each runs here as a person runs it (its README command,
the project's Python; the in-process ones on a throw-away SQLite file, write_pages.py also on a throw-away
PostgreSQL database, run.py with its own PostgreSQL server), at the smallest size that still goes through every call
it measures. The figures themselves are not checked: they are timings and counts of this machine; what is checked
is that every call answered as it should (the scripts stop on any other status) and that each table names what it
says it measures.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run_script(tmp_path: Path, script: str, *args: str, database_url: str | None = None) -> str:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["DATABASE_URL"] = database_url or f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    done = subprocess.run(
        [sys.executable, f"benchmarks/{script}", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.sqlite  # its own throw-away SQLite file in any lane: run once, in the SQLite lane
def test_profile_calls_times_every_call_and_splits_it_into_layers(tmp_path):
    out = run_script(tmp_path, "profile_calls.py", "--calls", "10", "--users", "5")
    medians = dict(re.findall(r"^(whoami|lookup|get|put|post)\s+([\d.]+)\s+[\d.]+$", out, re.M))
    assert set(medians) == {"whoami", "lookup", "get", "put", "post"}, out
    assert all(float(ms) > 0 for ms in medians.values())
    for endpoint in medians:
        assert re.search(rf"^== {endpoint}: [\d.]+ ms per call under the profiler", out, re.M), out
    put = out.split("== put:")[1].split("==")[0]
    assert "sql (driver)" in put and "token auth" in put, put


@pytest.mark.sqlite  # its own throw-away SQLite file in any lane: run once, in the SQLite lane
def test_write_pages_counts_the_pages_of_okta_post_and_put(tmp_path):
    out = run_script(tmp_path, "write_pages.py", "--calls", "3", "--users", "5")
    assert out.startswith("sqlite: pages written to the write-ahead log"), out
    post, put = out.split("\nPOST:")[1].split("\nPUT:")
    assert float(re.match(r" median ([\d.]+) per call", post).group(1)) > 0, post
    # A new user is its row, its email and its audit event; an update, the row and its audit event.
    for table in ("realms_realmuser", "realms_realmemail", "realms_auditevent"):
        assert table in post, post
    for table in ("realms_realmuser", "realms_auditevent"):
        assert table in put, put


@pytest.mark.postgres
def test_write_pages_counts_the_wal_records_of_okta_post_and_put_on_postgresql(tmp_path, request):
    """On PostgreSQL, in a throw-away database of the test's (the script creates pg_walinspect in it)."""
    import psycopg

    server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    admin_url, name = f"{server}/postgres", f"bench_pages_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    request.addfinalizer(drop)
    out = run_script(tmp_path, "write_pages.py", "--calls", "3", "--users", "5", database_url=f"{server}/{name}")
    assert out.startswith("postgresql: WAL records (heap, index, transaction)"), out
    post, put = out.split("\nPOST:")[1].split("\nPUT:")
    for table in ("realms_realmuser", "realms_realmemail", "realms_auditevent"):
        assert f"Heap INSERT {table}" in post or f"Heap INSERT+INIT {table}" in post, post
    assert "Transaction COMMIT" in put and "realms_auditevent" in put, put


@pytest.mark.sqlite  # its own throw-away SQLite file in any lane: run once, in the SQLite lane
def test_signals_compares_no_receiver_with_one(tmp_path):
    calls, rounds = 2, 2
    out = run_script(tmp_path, "signals.py", "--calls", str(calls), "--rounds", str(rounds))
    rows = re.findall(r"^\| (.+?) \| ([\d.]+) \| ([\d.]+) \| ", out, re.M)
    assert len(rows) >= 4, out
    # The receiver is connected for one set-up of every round: one signal for each call made then, no more.
    received = int(re.search(r"signals received by the receiver: (\d+)", out).group(1))
    assert received == len(rows) * calls * rounds, out
    assert "announce_user" in out


@pytest.mark.sqlite  # its own throw-away SQLite file in any lane: run once, in the SQLite lane
def test_sqlite_writers_runs_one_and_two_writing_processes(tmp_path):
    out = run_script(tmp_path, "sqlite_writers.py", "--calls", "20", "--rounds", "1", "--users", "50")
    rows = re.findall(r"^(put|post)\s+(\d)\s+(\d+)\s", out, re.M)
    assert {(kind, processes) for kind, processes, _ in rows} == {
        ("put", "1"),
        ("put", "2"),
        ("post", "1"),
        ("post", "2"),
    }
    assert all(int(per_second) > 0 for _, _, per_second in rows), out


@pytest.mark.postgres
def test_run_py_measures_all_four_benchmarks_over_http(tmp_path, postgres_home):
    """`benchmarks/run.py` as the README runs it (its own PostgreSQL server, gunicorn, django-scim2 from PyPI in its
    own virtualenv), at the smallest sizes with every phase; the figures go to a directory of the test's, never
    over the committed benchmarks/results."""
    from .system_programs import free_ports, postgresql_bin_dir

    postgresql_bin_dir()  # skipped (failed in CI) without PostgreSQL's server programs
    results = tmp_path / "results"
    ports = ",".join(str(port) for port in free_ports(2))  # not 8601/8602: a benchmark may be running beside
    run_script(
        tmp_path,
        "run.py",
        *("floor", "scale", "compare", "okta"),
        *("--users", "100", "--okta-users", "150", "--scale-users", "300", "--rounds", "5"),
        *("--workers", "2", "--slices", "2", "--pg-port", "54391", "--pg-data", str(postgres_home / "pg")),
        *("--results", str(results), "--ports", ports),
    )
    # And the comparison on SQLite files (the same workload, both servers with our SQLite options), in a realm of
    # fewer users than a group's 100 members (each group then has every user once), twice (--repeat).
    run_script(
        tmp_path,
        "run.py",
        *("compare", "--sqlite", "--users", "60", "--workers", "2", "--slices", "2", "--repeat", "2"),
        *("--pg-port", "54391", "--pg-data", str(postgres_home / "pg"), "--results", str(results)),
        *("--ports", ports),
    )
    written = {path.stem: json.loads(path.read_text()) for path in results.glob("*.json")}
    assert set(written) == {"floor", "scale", "compare", "okta", "compare-sqlite"}, written.keys()
    assert written["compare"]["database"] == "postgresql" and written["compare-sqlite"]["database"] == "sqlite"
    assert set(written["compare-sqlite"]["runs"]["2"]["phases"]) == set(written["compare"]["runs"]["2"]["phases"])
    floor = written["floor"]
    assert set(floor["ratio_to_whoami"]) == {"lookup", "get"} and all(floor["median_ms"].values()), floor
    scale = written["scale"]
    assert scale["realms"]["large"]["users"] == 300
    assert set(scale["ratio_large_to_1k"]) == set(scale["median_ms"]["1k"]), scale
    phases = written["compare"]["runs"]["2"]["phases"]
    assert set(phases) == {
        "push (lookup + POST)",
        "lookups",
        "list (pages of 100)",
        "PUT updates",
        "later push (lookup + POST)",
        "groups (POST + PATCH 100 members)",
    }
    for name, phase in phases.items():  # both servers answered every request (any other status stops run.py)
        assert phase["ours_rps"] > 0 and phase["django_scim2_rps"] > 0, (name, phase)
    # Every job of a phase of U jobs ran, on both servers, whatever the slicing.
    assert phases["PUT updates"]["ours"]["requests"] == phases["PUT updates"]["django_scim2"]["requests"] == 100
    on_sqlite = written["compare-sqlite"]["runs"]["2"]["phases"]
    assert on_sqlite["PUT updates"]["ours"]["requests"] == on_sqlite["PUT updates"]["django_scim2"]["requests"] == 60
    assert on_sqlite["groups (POST + PATCH 100 members)"]["django_scim2_rps"] > 0
    # --repeat keeps the last run whole and every run's ratios, with their median and range.
    put = written["compare-sqlite"]["repeats"]["2"]["PUT updates"]
    assert len(put["runs"]) == 2 and put["runs"][-1] == on_sqlite["PUT updates"]["ratio"], put
    assert put["min"] <= put["median"] <= put["max"], put
    assert "repeats" not in written["compare"]
    # report.py prints every result as the tables of docs/performance.md, the runs' spread included.
    report = run_script(tmp_path, "report.py", "--results", str(results))
    for name in ("floor", "scale", "compare", "compare-sqlite", "okta"):
        assert f"### {name}\n" in report, report
    assert re.search(r"\| PUT updates \| \d+\.\d\d \(\d+\.\d\d to \d+\.\d\d\) \|", report), report
    okta = written["okta"]["runs"]["2"]
    assert okta["phases"]["push (lookup + POST)"]["requests"] == 300 and okta["import_pages"] == 2, okta
