"""Trash the live subtasks that earlier releases left under a task in the trash.

Before tree.py, a restore could nest a subtree deeper than MAX_DEPTH, and a trash walked only
MAX_DEPTH levels, so the deepest tasks of a trashed subtree stayed live (listed, synced) under
an ancestor in the trash, and erasing that ancestor erased them. Each such task now joins its
parent in the trash with the parent's `deleted_at`, so restoring the ancestor brings it back
with the rest, and the change log lists it as deleted, so every synced client drops it too.

Level by level (a stray's own subtasks are strays once it is trashed); rows written by the
historical models, and each affected user's change number taken once, as change_record does.
"""

from collections import defaultdict

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.utils import timezone

# The kind of a task's records in the change log when this migration was written.
SYNC_KIND = "task"
BATCH_SIZE = 1000


def trash_stray_subtasks(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Task = apps.get_model("tasks", "Task")
    Change = apps.get_model("sync", "Change")
    ChangeCounter = apps.get_model("sync", "ChangeCounter")
    trashed_by_owner: dict[int, list[int]] = defaultdict(list)
    while True:
        strays = list(
            Task.objects.filter(deleted_at__isnull=True, parent__deleted_at__isnull=False)
            .order_by("pk")
            .values_list("pk", "owner_id", "parent__deleted_at")[:BATCH_SIZE]
        )
        if not strays:
            break
        by_stamp: dict[object, list[int]] = defaultdict(list)
        for task_id, owner_id, stamp in strays:
            by_stamp[stamp].append(task_id)
            trashed_by_owner[owner_id].append(task_id)
        for stamp, task_ids in by_stamp.items():
            Task.objects.filter(pk__in=task_ids).update(deleted_at=stamp)
    now = timezone.now()
    for owner_id, task_ids in trashed_by_owner.items():
        counter, _ = ChangeCounter.objects.get_or_create(owner_id=owner_id)
        counter.seq += 1
        counter.save(update_fields=["seq"])
        for task_id in task_ids:
            Change.objects.update_or_create(
                kind=SYNC_KIND,
                object_id=task_id,
                defaults={
                    "owner_id": owner_id,
                    "seq": counter.seq,
                    "deleted": True,
                    "changed_at": now,
                },
            )


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0006_subtasks"),
        ("sync", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(trash_stray_subtasks, migrations.RunPython.noop),
    ]
