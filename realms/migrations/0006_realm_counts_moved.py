import importlib

from django.db import migrations, models

# SCIM's paging remembers, per process, which (created_at, id) sits at which position of a realm's list in the
# default order (created_at, id), so that a deep page starts from a remembered position instead of skipping every
# row before it (scim/views/paging.py). It keyed what it remembers by RealmCounts.changes, which moves with every
# insert and delete: a user created then deleted at the very end of the list threw every position away. These
# triggers replace those of 0002 (same counts, same `changes`) and add, per list, `<column>_moved`, which moves only
# with a change that may move a row that stays, and `<column>_newest_at`, the newest created_at ever in the realm:
#
# - INSERT: moved unless the row sorts after every row ever in the realm (created_at > newest_at; `<=` counts as
#   moved, since ties are ordered by id and a tie may sort before the newest row). New rows get created_at = now,
#   so an insert almost never moves anything.
# - DELETE: moved unless the row was the last one in the order: its created_at is newest_at and no other row of the
#   realm has a created_at as late (a range of the (realm, created_at, id) index holding only the ties of the
#   newest row, so deleting a whole realm stays linear). A later delete of the row that has become the last counts
#   as moved (newest_at is never lowered): exact, only not as lazy as it could be.
# - UPDATE of realm_id (a row moved to another realm) or of created_at: moved in both realms (a row that came and
#   went, anywhere in the order); newest_at covers the moved row.
#
# Deleting the last row moves no position of a row that stays, but it leaves what the paging remembers about the
# deleted row (its position, "the list goes on after it") wrong as soon as a row is inserted after it: the paging
# only uses a remembered row that still exists (it reads that in the page's own statement). Between two moves of
# `moved`, a list only gains rows at its end and loses its last rows, so a remembered row that is still there has
# the same rows before it: its position holds.
#
# Concurrency (PostgreSQL, READ COMMITTED): every trigger first writes the realm's counts row, which locks it until
# commit, so the trigger bodies of one realm run one after the other, each reading the row as the previous one left
# it (`ON CONFLICT DO UPDATE` and `SELECT … FOR UPDATE` wait for a concurrent writer, then read its committed row).
# An insert with an earlier created_at that commits after a later one therefore finds newest_at already past its
# own created_at and counts as moved. The DELETE's index probe is a statement of its own, after the lock is held, so
# its snapshot sees every row committed by the triggers that ran before it; a row inserted by a transaction whose
# trigger has not run yet comes after it in that order, and its own trigger compares with newest_at. SQLite
# serialises writers.
TABLES = {"users": "realms_realmuser", "groups": "realms_realmgroup"}

POSTGRESQL = """
CREATE OR REPLACE FUNCTION realms_count_{column}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    newest timestamptz;  -- Django's DateTimeField on PostgreSQL, whatever USE_TZ
    moved integer := 1;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.realm_id IS NOT DISTINCT FROM NEW.realm_id THEN
        -- Only created_at changed (the trigger's WHEN): the row may now sort anywhere.
        UPDATE realms_realmcounts
        SET {column}_moved = {column}_moved + 1, {column}_newest_at = GREATEST({column}_newest_at, NEW.created_at)
        WHERE realm_id = NEW.realm_id;
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
        INSERT INTO realms_realmcounts
            (realm_id, {column}, {other}, changes, {column}_moved, {column}_newest_at, {other}_moved)
        VALUES (NEW.realm_id, 1, 0, 1, 0, NEW.created_at, 0)
        ON CONFLICT (realm_id) DO UPDATE SET
            {column} = realms_realmcounts.{column} + 1,
            changes = realms_realmcounts.changes + 1,
            {column}_moved = realms_realmcounts.{column}_moved + CASE
                WHEN TG_OP = 'UPDATE' OR NEW.created_at <= realms_realmcounts.{column}_newest_at THEN 1 ELSE 0 END,
            {column}_newest_at = GREATEST(realms_realmcounts.{column}_newest_at, NEW.created_at);
    END IF;
    IF TG_OP = 'DELETE' THEN
        -- Lock first: the probe below then runs with a snapshot taken after every earlier writer committed.
        SELECT {column}_newest_at INTO newest FROM realms_realmcounts WHERE realm_id = OLD.realm_id FOR UPDATE;
        IF OLD.created_at >= newest THEN
            IF NOT EXISTS (
                SELECT 1 FROM {table} later WHERE later.realm_id = OLD.realm_id AND later.created_at >= OLD.created_at
            ) THEN
                moved := 0;  -- the last row of the list
            END IF;
        END IF;
    END IF;
    IF TG_OP = 'DELETE' OR TG_OP = 'UPDATE' THEN
        UPDATE realms_realmcounts
        SET {column} = {column} - 1, changes = changes + 1, {column}_moved = {column}_moved + moved
        WHERE realm_id = OLD.realm_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER realms_count_{column}_insert_delete AFTER INSERT OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION realms_count_{column}();
CREATE TRIGGER realms_count_{column}_update AFTER UPDATE OF realm_id, created_at ON {table}
    FOR EACH ROW WHEN (OLD.realm_id IS DISTINCT FROM NEW.realm_id OR OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION realms_count_{column}();
"""
POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS realms_count_{column}_insert_delete ON {table};
DROP TRIGGER IF EXISTS realms_count_{column}_update ON {table};
DROP FUNCTION IF EXISTS realms_count_{column}();
"""

# Parts of the SQLite triggers, put in by _statements. SQLite's max() returns NULL when an argument is NULL: the
# newest created_at is a CASE.
SQLITE_UPSERT = """INSERT INTO realms_realmcounts
        (realm_id, {column}, {other}, changes, {column}_moved, {column}_newest_at, {other}_moved)
        VALUES (NEW.realm_id, 1, 0, 1, 0, NEW.created_at, 0)
        ON CONFLICT (realm_id) DO UPDATE SET {column} = {column} + 1, changes = changes + 1,
        {column}_moved = {column}_moved + {moved}, {column}_newest_at = {newest}"""
SQLITE_PARTS = {
    "{upsert_if_before}": SQLITE_UPSERT.replace(
        "{moved}", "CASE WHEN NEW.created_at <= {column}_newest_at THEN 1 ELSE 0 END"
    ),
    "{upsert_moved}": SQLITE_UPSERT.replace("{moved}", "1"),
    "{newest}": "CASE WHEN {column}_newest_at >= NEW.created_at THEN {column}_newest_at ELSE NEW.created_at END",
}
SQLITE = [
    """CREATE TRIGGER realms_count_{column}_insert AFTER INSERT ON {table} BEGIN
        {upsert_if_before};
    END""",
    """CREATE TRIGGER realms_count_{column}_delete AFTER DELETE ON {table} BEGIN
        UPDATE realms_realmcounts SET {column} = {column} - 1, changes = changes + 1,
        {column}_moved = {column}_moved + CASE
            WHEN OLD.created_at >= {column}_newest_at AND NOT EXISTS (
                SELECT 1 FROM {table} later WHERE later.realm_id = OLD.realm_id AND later.created_at >= OLD.created_at
            ) THEN 0 ELSE 1 END
        WHERE realm_id = OLD.realm_id;
    END""",
    """CREATE TRIGGER realms_count_{column}_move AFTER UPDATE OF realm_id ON {table}
        WHEN OLD.realm_id IS NOT NEW.realm_id BEGIN
        UPDATE realms_realmcounts SET {column} = {column} - 1, changes = changes + 1, {column}_moved = {column}_moved + 1
        WHERE realm_id = OLD.realm_id;
        {upsert_moved};
    END""",
    """CREATE TRIGGER realms_count_{column}_reorder AFTER UPDATE OF created_at ON {table}
        WHEN OLD.created_at IS NOT NEW.created_at BEGIN
        UPDATE realms_realmcounts SET {column}_moved = {column}_moved + 1, {column}_newest_at = {newest}
        WHERE realm_id = NEW.realm_id;
    END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS realms_count_{column}_insert",
    "DROP TRIGGER IF EXISTS realms_count_{column}_delete",
    "DROP TRIGGER IF EXISTS realms_count_{column}_move",
    "DROP TRIGGER IF EXISTS realms_count_{column}_reorder",
]

# The newest created_at of the rows already there; `moved` starts at 0 (nothing is remembered across a deploy).
BACKFILL = """UPDATE realms_realmcounts SET
    users_newest_at = (SELECT MAX(u.created_at) FROM realms_realmuser u WHERE u.realm_id = realms_realmcounts.realm_id),
    groups_newest_at = (SELECT MAX(g.created_at) FROM realms_realmgroup g WHERE g.realm_id = realms_realmcounts.realm_id)
"""


def _statements(vendor: str, drop: bool = False) -> list[str]:
    statements = []
    for column, table in TABLES.items():
        names = {"column": column, "other": "groups" if column == "users" else "users", "table": table}
        if vendor == "postgresql":
            texts = [POSTGRESQL_DROP if drop else POSTGRESQL]
        elif vendor == "sqlite":
            texts = SQLITE_DROP if drop else SQLITE
        else:
            raise NotImplementedError(f"No realm count triggers for {vendor}: PostgreSQL and SQLite are supported.")
        for text in texts:
            for part, sql in SQLITE_PARTS.items():
                text = text.replace(part, sql)
            statements.append(text.format(**names))
    return statements


def create_triggers(apps, schema_editor):
    schema_editor.execute(BACKFILL)
    for statement in _statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor, drop=True):
        schema_editor.execute(statement)


# The triggers of 0002 are dropped before the new columns are added (they insert counts rows without them) and
# made again when this migration is reversed, after the columns are gone.
_0002 = importlib.import_module("realms.migrations.0002_realm_counts_triggers")


class Migration(migrations.Migration):
    dependencies = [
        ("realms", "0005_auditevent_feed"),
    ]

    operations = [
        migrations.RunPython(_0002.drop_triggers, _0002.create_triggers),
        migrations.AddField(
            model_name="realmcounts",
            name="users_moved",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="realmcounts",
            name="users_newest_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="realmcounts",
            name="groups_moved",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="realmcounts",
            name="groups_newest_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
