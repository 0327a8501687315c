from django.db import migrations, models

# The change feed (realms/api/events.py) reads a realm's audit events in the order (txid, id) and, on PostgreSQL,
# serves only the events of transactions older than every transaction still running
# (txid < pg_snapshot_xmin(pg_current_snapshot())): ids are taken at INSERT time but transactions commit in any
# order, so an event with a smaller id can become visible after a reader has passed it. `txid` is set by a trigger
# so that every writer is covered (the ORM, the services' one-statement INSERTs in a CTE, bulk_create, a host's own
# SQL) and no query is added:
# - PostgreSQL: BEFORE INSERT, the id of the writing transaction (xid8, PostgreSQL 13+: it never wraps around).
#   The events recorded before this migration keep 0: they come first.
# - SQLite: writes are serialised, so id order is commit order; AFTER INSERT, txid becomes the event's id (the old
#   events' too), which keeps (txid, id) a range of the feed's index (SQLite seeks on the first column of a row
#   value only: with every txid 0, each page would scan the realm's events from the first).
POSTGRESQL = """
CREATE FUNCTION realms_auditevent_txid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.txid := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END $$;
CREATE TRIGGER realms_auditevent_txid BEFORE INSERT ON realms_auditevent
    FOR EACH ROW EXECUTE FUNCTION realms_auditevent_txid();
"""
POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS realms_auditevent_txid ON realms_auditevent;
DROP FUNCTION IF EXISTS realms_auditevent_txid();
"""


SQLITE = [
    """CREATE TRIGGER realms_auditevent_txid AFTER INSERT ON realms_auditevent BEGIN
        UPDATE realms_auditevent SET txid = NEW.id WHERE id = NEW.id;
    END""",
    "UPDATE realms_auditevent SET txid = id",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS realms_auditevent_txid"]


def _statements(vendor: str, drop: bool = False) -> list[str]:
    if vendor == "postgresql":
        return [POSTGRESQL_DROP if drop else POSTGRESQL]
    if vendor == "sqlite":
        return SQLITE_DROP if drop else SQLITE
    raise NotImplementedError(f"No change feed trigger for {vendor}: PostgreSQL and SQLite are supported.")


def create_trigger(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def drop_trigger(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor, drop=True):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("realms", "0004_realm_name_ci_and_scim_account"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="txid",
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(create_trigger, drop_trigger),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["realm", "txid", "id"], name="auditevent_feed"),
        ),
    ]
