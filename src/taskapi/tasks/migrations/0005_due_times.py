"""Due times: `due_at` and `time_zone`, and the internal `due_day` the due filters and the
due_date ordering use instead of due_date.

Existing tasks are all-day or undated, so their due_day is their due_date: one UPDATE fills it
before the constraint that requires it is added. The index on (owner, due_date, id) is replaced
by one on (owner, due_day, id).
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def due_day_from_due_date(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Task = apps.get_model("tasks", "Task")
    Task.objects.filter(due_date__isnull=False).update(due_day=models.F("due_date"))


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0004_labels"),
    ]

    operations = [
        migrations.AddField(
            model_name="task",
            name="due_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="task",
            name="time_zone",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="task",
            name="due_day",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.RunPython(due_day_from_due_date, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name="task",
            name="task_owner_due_idx",
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(fields=["owner", "due_day", "id"], name="task_owner_due_day_idx"),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(due_date__isnull=True) | models.Q(due_at__isnull=True),
                name="task_due_date_or_due_at",
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(due_at__isnull=True, time_zone__isnull=True)
                | models.Q(due_at__isnull=False, time_zone__isnull=False),
                name="task_time_zone_matches_due_at",
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(due_date__isnull=True, due_at__isnull=True, due_day__isnull=True)
                | models.Q(
                    due_date__isnull=False, due_day=models.F("due_date"), due_day__isnull=False
                )
                | models.Q(due_at__isnull=False, due_day__isnull=False),
                name="task_due_day_matches_due",
            ),
        ),
    ]
