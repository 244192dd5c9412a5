"""Subtasks and a manual order: `parent` and `position`.

Existing tasks are all top level; each user's get positions in creation order (created_at, id),
POSITION_GAP apart from 0, before the uniqueness constraints are added. Set-based SQL (a window
function in UPDATE ... FROM), valid on PostgreSQL and SQLite 3.33+.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# The value of models.POSITION_GAP when this migration was written; a migration keeps its own.
POSITION_GAP = 2**16

POSITIONS_BY_CREATION = (
    "UPDATE tasks_task SET position = ranked.position FROM ("
    "SELECT id, (ROW_NUMBER() OVER (PARTITION BY owner_id ORDER BY created_at, id) - 1) * %s "
    "AS position FROM tasks_task) AS ranked WHERE tasks_task.id = ranked.id"
)


def positions_by_creation(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(POSITIONS_BY_CREATION, [POSITION_GAP])


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0005_due_times"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="task",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="children",
                to="tasks.task",
            ),
        ),
        migrations.AddField(
            model_name="task",
            name="position",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(positions_by_creation, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                fields=["owner", "parent", "position", "id"], name="task_owner_parent_pos_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.UniqueConstraint(
                condition=models.Q(("deleted_at__isnull", True), ("parent__isnull", False)),
                fields=("parent", "position"),
                name="task_child_position_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.UniqueConstraint(
                condition=models.Q(("deleted_at__isnull", True), ("parent__isnull", True)),
                fields=("owner", "position"),
                name="task_top_level_position_unique",
            ),
        ),
    ]
