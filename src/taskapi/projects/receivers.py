"""What the projects app does when accounts come and go, whatever makes or deletes them
(registration, the admin command, a test factory; DELETE /auth/me/), in the same transaction.

- A new account gets its Inbox, which it owns.
- A deleted account's projects are erased (their members lose them) and it leaves the others,
  before its rows go: the members' changes feeds and webhooks hear of it (services.py).
"""

from typing import Any

from django.conf import settings
from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from taskapi.projects.models import INBOX_NAME, Membership, Project, Role
from taskapi.projects.services import memberships_end


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="projects.inbox")
def _inbox_create(sender: Any, instance: Any, created: bool, raw: bool = False, **_: Any) -> None:
    if not created or raw:
        return
    inbox = Project.objects.create(owner_id=instance.pk, name=INBOX_NAME, inbox=True)
    Membership.objects.create(project=inbox, user_id=instance.pk, role=Role.OWNER)


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="projects.account_deleting")
def _memberships_end(sender: Any, instance: Any, **_: Any) -> None:
    memberships_end(user_id=instance.pk)
