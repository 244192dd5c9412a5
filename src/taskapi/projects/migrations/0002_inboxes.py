"""An Inbox for every user who registered before projects: one project each, owned by them, with
their owner membership. In batches of users, each its own transaction, so a large user table is
not held locked by one long transaction; a rerun after an interruption skips users who have one.
"""

from django.db import migrations, transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.utils import timezone

INBOX_NAME = "Inbox"
BATCH_SIZE = 2000


def inboxes_create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    User = apps.get_model("accounts", "User")
    Project = apps.get_model("projects", "Project")
    Membership = apps.get_model("projects", "Membership")
    after = 0
    while True:
        user_ids = list(
            User.objects.filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH_SIZE]
        )
        if not user_ids:
            return
        after = user_ids[-1]
        with transaction.atomic():
            have = set(
                Project.objects.filter(owner_id__in=user_ids, inbox=True).values_list(
                    "owner_id", flat=True
                )
            )
            now = timezone.now()
            Project.objects.bulk_create(
                Project(
                    owner_id=user_id, name=INBOX_NAME, inbox=True, created_at=now, updated_at=now
                )
                for user_id in user_ids
                if user_id not in have
            )
            inboxes = Project.objects.filter(owner_id__in=user_ids, inbox=True).exclude(
                memberships__role="owner"
            )
            Membership.objects.bulk_create(
                Membership(project_id=project_id, user_id=owner_id, role="owner", joined_at=now)
                for project_id, owner_id in inboxes.values_list("pk", "owner_id")
            )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("projects", "0001_initial"),
        ("accounts", "0002_token_family"),
    ]

    operations = [migrations.RunPython(inboxes_create, migrations.RunPython.noop, elidable=True)]
