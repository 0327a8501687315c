"""The database triggers that the migrations install are all there once every migration has run.

The realm's counts (RealmCounts: SCIM's totalResults and deep pages) and the change feed's order (AuditEvent.txid)
are kept by triggers that migrations 0005 and 0006 create with RunPython. On SQLite, a later migration that alters
one of those tables (AlterField, a changed constraint: anything that SQLite cannot ALTER in place) makes Django's
schema editor copy the table into a new one, and the copy has no triggers: the counts and the feed would go wrong
with nothing saying why. Such a migration must create the triggers again; this test names the one that was lost.
"""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

# The realm's counted lists and their tables, as the migration that made the current count triggers names them.
COUNTED_TABLES = importlib.import_module("realms.migrations.0006_realm_counts_moved").TABLES

EXPECTED = {
    "sqlite": {
        *(
            (f"realms_count_{column}_{event}", table)
            for column, table in COUNTED_TABLES.items()
            for event in ("insert", "delete", "move", "reorder")
        ),
        ("realms_auditevent_txid", "realms_auditevent"),
    },
    "postgresql": {
        *(
            (f"realms_count_{column}_{event}", table)
            for column, table in COUNTED_TABLES.items()
            for event in ("insert_delete", "update")
        ),
        ("realms_auditevent_txid", "realms_auditevent"),
    },
}


def installed_triggers() -> set[tuple[str, str]]:
    """(trigger, table) of every trigger of the apps' tables in the test database."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal")
        return {(name, table) for name, table in cursor.fetchall() if table.startswith("realms_")}


@pytest.mark.django_db
def test_every_trigger_of_the_migrations_is_installed():
    missing = EXPECTED[connection.vendor] - installed_triggers()
    assert not missing, (
        f"triggers missing after the migrations: {sorted(missing)}. A migration that alters one of these tables on "
        "SQLite copies it without its triggers: create them again in that migration (see realms/migrations/0006)."
    )
