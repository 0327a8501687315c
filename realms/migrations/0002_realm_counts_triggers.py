from django.db import migrations

# Triggers keep realms_realmcounts right whatever inserts or deletes a realm user or group (SCIM, SAML sign-in, the
# admin, a bulk load), in the same transaction: an unfiltered SCIM list reads its totalResults there instead of
# counting the realm's rows (docs/performance.md). One trigger set per database; both do the same.
TABLES = {"users": "realms_realmuser", "groups": "realms_realmgroup"}

POSTGRESQL = """
CREATE FUNCTION realms_count_{column}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
        INSERT INTO realms_realmcounts (realm_id, {column}, {other}, changes) VALUES (NEW.realm_id, 1, 0, 1)
        ON CONFLICT (realm_id) DO UPDATE
        SET {column} = realms_realmcounts.{column} + 1, changes = realms_realmcounts.changes + 1;
    END IF;
    IF TG_OP = 'DELETE' OR TG_OP = 'UPDATE' THEN
        UPDATE realms_realmcounts SET {column} = {column} - 1, changes = changes + 1 WHERE realm_id = OLD.realm_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER realms_count_{column}_insert_delete AFTER INSERT OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION realms_count_{column}();
CREATE TRIGGER realms_count_{column}_move AFTER UPDATE OF realm_id ON {table}
    FOR EACH ROW WHEN (OLD.realm_id IS DISTINCT FROM NEW.realm_id) EXECUTE FUNCTION realms_count_{column}();
"""
POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS realms_count_{column}_insert_delete ON {table};
DROP TRIGGER IF EXISTS realms_count_{column}_move ON {table};
DROP FUNCTION IF EXISTS realms_count_{column}();
"""
SQLITE = [
    """CREATE TRIGGER realms_count_{column}_insert AFTER INSERT ON {table} BEGIN
        INSERT INTO realms_realmcounts (realm_id, {column}, {other}, changes) VALUES (NEW.realm_id, 1, 0, 1)
        ON CONFLICT (realm_id) DO UPDATE SET {column} = {column} + 1, changes = changes + 1;
    END""",
    """CREATE TRIGGER realms_count_{column}_delete AFTER DELETE ON {table} BEGIN
        UPDATE realms_realmcounts SET {column} = {column} - 1, changes = changes + 1 WHERE realm_id = OLD.realm_id;
    END""",
    """CREATE TRIGGER realms_count_{column}_move AFTER UPDATE OF realm_id ON {table}
        WHEN OLD.realm_id IS NOT NEW.realm_id BEGIN
        UPDATE realms_realmcounts SET {column} = {column} - 1, changes = changes + 1 WHERE realm_id = OLD.realm_id;
        INSERT INTO realms_realmcounts (realm_id, {column}, {other}, changes) VALUES (NEW.realm_id, 1, 0, 1)
        ON CONFLICT (realm_id) DO UPDATE SET {column} = {column} + 1, changes = changes + 1;
    END""",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS realms_count_{column}_insert", "DROP TRIGGER IF EXISTS realms_count_{column}_delete",
               "DROP TRIGGER IF EXISTS realms_count_{column}_move"]
def _statements(vendor, drop=False):
    for column, table in TABLES.items():
        names = {"column": column, "other": "groups" if column == "users" else "users", "table": table}
        if vendor == "postgresql":
            yield (POSTGRESQL_DROP if drop else POSTGRESQL).format(**names)
        elif vendor == "sqlite":
            yield from (text.format(**names) for text in (SQLITE_DROP if drop else SQLITE))
        else:
            raise NotImplementedError(f"No realm count triggers for {vendor}: PostgreSQL and SQLite are supported.")


def create_triggers(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor, drop=True):
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("realms", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers),
    ]
