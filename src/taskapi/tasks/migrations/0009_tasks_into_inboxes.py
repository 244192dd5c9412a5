"""Every task moves into its creator's Inbox (projects 0002 made one for every user).

By ranges of task ids, each its own transaction and one UPDATE with a correlated subquery on the
Inbox's unique (owner) index: a table of millions of tasks is never held in one long
transaction, and an interrupted run picks up where it stopped (it sets only NULL projects).
The change log needs nothing: each task stays visible to exactly the user who saw it.
"""

from django.db import migrations, transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models import Max, OuterRef, Subquery

BATCH_SIZE = 20_000


def tasks_into_inboxes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Task = apps.get_model("tasks", "Task")
    Project = apps.get_model("projects", "Project")
    last = Task.objects.aggregate(last=Max("pk"))["last"] or 0
    inbox = Project.objects.filter(owner_id=OuterRef("created_by_id"), inbox=True).values("pk")[:1]
    start = 0
    while start < last:
        with transaction.atomic():
            Task.objects.filter(
                pk__gt=start, pk__lte=start + BATCH_SIZE, project__isnull=True
            ).update(project_id=Subquery(inbox))
        start += BATCH_SIZE


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tasks", "0008_projects")]

    operations = [
        migrations.RunPython(tasks_into_inboxes, migrations.RunPython.noop, elidable=True)
    ]
