"""Drop the lone realm_id indexes of realmuser, realmgroup and auditevent.

Each table has composite and unique indexes that start with realm_id (realmuser_realm_created,
realmuser_unique_username_ci, auditevent_feed, …), which serve every query by realm alone, the cascade of a realm's
deletion and PostgreSQL's foreign-key checks included. The lone index only cost each write one more index entry
and its disk space (docs/performance-history.md: a simplification; its effect on throughput is within the noise).

Only the indexes are dropped: Django's AlterField of a foreign key would also drop and re-add (re-validate) the
foreign-key constraint on PostgreSQL, a full scan of the audit table under lock, and rebuild the tables on SQLite.
The index names are the ones Django gave them in 0001 (the same on PostgreSQL and SQLite, the two databases
supported).
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = [
    ("realms_auditevent", "realms_auditevent_realm_id_0c3fcfff"),
    ("realms_realmgroup", "realms_realmgroup_realm_id_64bc3cdb"),
    ("realms_realmuser", "realms_realmuser_realm_id_43452509"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("realms", "0006_realm_counts_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="realm",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="audit_events",
                        to="realms.realm",
                    ),
                ),
                migrations.AlterField(
                    model_name="realmgroup",
                    name="realm",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="groups",
                        to="realms.realm",
                    ),
                ),
                migrations.AlterField(
                    model_name="realmuser",
                    name="realm",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="users",
                        to="realms.realm",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("realm_id")',
                )
                for table, index in INDEXES
            ],
        ),
    ]
