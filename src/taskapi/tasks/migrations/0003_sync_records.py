"""Give every existing task its record in the change log, so a full sync returns it.

Numbers per user follow (updated_at, id); each user's counter continues after them. Set-based
SQL (window function), valid on PostgreSQL and SQLite 3.25+.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def records_for_existing_tasks(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sync_change (owner_id, kind, object_id, seq, deleted, changed_at) "
            "SELECT owner_id, %s, id, "
            "ROW_NUMBER() OVER (PARTITION BY owner_id ORDER BY updated_at, id), %s, updated_at "
            "FROM tasks_task",
            ["task", False],
        )
        cursor.execute(
            "INSERT INTO sync_changecounter (owner_id, seq) "
            "SELECT owner_id, COUNT(*) FROM tasks_task GROUP BY owner_id"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0002_trash"),
        ("sync", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(records_for_existing_tasks, migrations.RunPython.noop),
    ]
