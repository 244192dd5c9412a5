"""Tasks join projects (schema, first step): a nullable `project`, the owner becomes who created
the task (kept when that account goes), an optional assignee; the indexes and constraints that
started with the owner go, to come back over the project once every task has one (0010)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0007_trash_stray_subtasks"),
        ("projects", "0002_inboxes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="task", name="task_owner_created_idx"),
        migrations.RemoveIndex(model_name="task", name="task_owner_updated_idx"),
        migrations.RemoveIndex(model_name="task", name="task_owner_due_day_idx"),
        migrations.RemoveIndex(model_name="task", name="task_owner_trashed_idx"),
        migrations.RemoveIndex(model_name="task", name="task_owner_parent_pos_idx"),
        migrations.RemoveConstraint(model_name="task", name="task_top_level_position_unique"),
        migrations.RenameField(model_name="task", old_name="owner", new_name="created_by"),
        migrations.AlterField(
            model_name="task",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="created_tasks",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="task",
            name="project",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="tasks",
                to="projects.project",
            ),
        ),
        migrations.AddField(
            model_name="task",
            name="assignee",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="assigned_tasks",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
