"""What one SCIM write writes to the database's log, by table and index: the pages (SQLite) or WAL records
(PostgreSQL) of Okta's POST and PUT, in-process, no HTTP server.

Run with the project's Python and a DATABASE_URL of a throw-away database (it is migrated and seeded):

    DATABASE_URL=sqlite:////tmp/pages.sqlite3 .venv/bin/python benchmarks/write_pages.py
    DATABASE_URL=postgres://…/realms_pages .venv/bin/python benchmarks/write_pages.py   # a superuser's connection

Unlike a timing, the count is the same on every run and every machine, B-tree page splits aside (a split writes a
page or two more: the median and the mean per call are printed): it says what a change to the schema or to a write
statement costs before a benchmark can. On SQLite, each call is committed to an empty write-ahead log (automatic
checkpoints off) and the page numbers of its frames are mapped to their table or index (the `dbstat` table): each
page a commit writes is written to the log (a frame header and the page) and later copied into the database file
by a checkpoint. On
PostgreSQL, the records between the WAL positions before and after the call (`pg_walinspect`, PostgreSQL 15+, which
the script creates in the throw-away database) are grouped by kind and relation: heap rows, index entries, the row
locks that foreign-key checks take on the rows they point at, the commit. docs/performance.md has the figures.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import struct
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import profile_calls as pc  # sets up Django with the profile's settings
from django.db import connection

WAL_HEADER, FRAME_HEADER = 32, 24  # SQLite's write-ahead log format (sqlite.org/fileformat.html)


def _sqlite_page_names() -> dict[int, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pageno, name FROM dbstat")
        return dict(cursor.fetchall())


def sqlite_call(app: Any, env: dict) -> tuple[str, collections.Counter[str]]:
    """Run one call on an empty write-ahead log; the tables and indexes of the pages its commit wrote."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    status, _body = pc.call(app, env)
    wal = Path(connection.settings_dict["NAME"] + "-wal").read_bytes()
    page_size = int.from_bytes(wal[8:12], "big") if len(wal) >= WAL_HEADER else 4096
    pages = [
        struct.unpack(">I", wal[offset : offset + 4])[0]
        for offset in range(WAL_HEADER, len(wal) - FRAME_HEADER + 1, FRAME_HEADER + page_size)
    ]
    names = _sqlite_page_names()
    return status, collections.Counter(names.get(page, f"page {page}") for page in pages)


def _postgresql_setup() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")


def _wal_position(cursor: Any) -> str:
    cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
    return cursor.fetchone()[0]


def postgresql_call(app: Any, env: dict) -> tuple[str, collections.Counter[str]]:
    """Run one call; the WAL records it wrote, by kind and relation."""
    with connection.cursor() as cursor:
        start = _wal_position(cursor)
    status, _body = pc.call(app, env)
    with connection.cursor() as cursor:
        end = _wal_position(cursor)
        for _ in range(100):  # the records can be read once written out (the WAL writer's next round)
            cursor.execute("SELECT pg_current_wal_flush_lsn() >= %s::pg_lsn", [end])
            if cursor.fetchone()[0]:
                break
            time.sleep(0.05)
        cursor.execute(
            "SELECT w.resource_manager, w.record_type, c.relname"
            " FROM pg_get_wal_records_info(%s::pg_lsn, %s::pg_lsn) w"
            " LEFT JOIN pg_class c ON c.relfilenode ="
            " NULLIF(substring(w.block_ref from 'rel \\d+/\\d+/(\\d+)'), '')::oid"
            " WHERE w.resource_manager IN ('Heap', 'Heap2', 'Btree', 'Transaction')",
            [start, end],
        )
        rows = cursor.fetchall()
    counted = collections.Counter(
        f"{manager} {kind}" + (f" {relation}" if relation else "") for manager, kind, relation in rows
    )
    return status, counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=15, help="calls counted per kind")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--kind", choices=["post", "put"], nargs="*", default=["post", "put"])
    args = parser.parse_args()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint=0")  # this connection's commits stay in the log
        measure, unit = sqlite_call, "pages written to the write-ahead log"
    elif connection.vendor == "postgresql":
        _postgresql_setup()
        measure, unit = postgresql_call, "WAL records (heap, index, transaction)"
    else:
        raise SystemExit("DATABASE_URL must name a throw-away SQLite file or PostgreSQL database")
    ctx = pc.seed(args.users)
    app = pc.get_wsgi_application()
    calls = pc.endpoints(ctx, app)
    print(f"{connection.vendor}: {unit} by one call, {args.calls} calls of each kind after 20 to warm up")
    for kind in args.kind:
        for _ in range(20):
            pc.call(app, calls[kind]())
        counts = []
        for _ in range(args.calls):
            status, counted = measure(app, calls[kind]())
            if not status.startswith(("200", "201")):
                raise SystemExit(f"{kind}: {status}")
            counts.append(counted)
        totals = [sum(c.values()) for c in counts]
        print(f"\n{kind.upper()}: median {statistics.median(totals):g} per call, mean {statistics.mean(totals):.1f}")
        per_call = {name: [c[name] for c in counts] for name in set().union(*counts)}
        for name, ns in sorted(per_call.items(), key=lambda item: (-statistics.median(item[1]), item[0])):
            print(f"  median {statistics.median(ns):g}, mean {statistics.mean(ns):4.1f}  {name}")


if __name__ == "__main__":
    main()
