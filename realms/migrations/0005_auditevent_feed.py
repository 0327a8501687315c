from django.db import migrations, models

# The change feed (realms/api/events.py) reads a realm's audit events in the order (txid, id) and, on PostgreSQL,
# serves only the events of transactions older than every transaction still running
# (txid < pg_snapshot_xmin(pg_current_snapshot())): ids are taken at INSERT time, but transactions commit in any
# order, so an event with a smaller id can become visible after a reader has passed it. `txid` is the id of the
# transaction that wrote the event, set by a BEFORE INSERT trigger so that every writer is covered (the ORM, the
# services' one-statement INSERTs in a CTE, bulk_create, a host's own SQL) and no query is added. xid8 (PostgreSQL
# 13+) never wraps around. On SQLite, writes are serialised and id order is commit order: txid stays 0 (as for the
# events recorded before this migration, which come first).
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


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP)


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
