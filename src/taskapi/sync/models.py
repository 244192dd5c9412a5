"""The change log that sync reads: one row per synced object, numbered in commit order.

Design (why not "changed since a timestamp"): a writer that reads the clock and then commits
late can commit after a reader already moved past its timestamp, and its change is never seen.
Here every writing transaction takes its user's next number from `ChangeCounter` with one
`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, which holds the user's counter row locked until
the transaction ends. Two transactions of the same user therefore commit in the order of their
numbers: whoever sees number N committed also sees every number below it. A reader that
remembers the last (seq, object_id) it applied can ask for what comes after it and never miss a
change. The lock is per user, so writes of different users never wait on each other.

Shared projects (taskapi.projects): `owner` is the *reader*, the user whose feed lists the record.
A write to a task records it for every member of the task's project, taking each member's counter
in ascending user id in one statement (no two writers can each hold a counter the other waits
for), so the argument above holds for each reader on its own: whoever sees their number N
committed also sees every record below N that concerns them, whoever wrote it. A change of
membership records the project's tasks for the member who joined (changed) or left (deleted)
under that member's counter in the same way; docs/sharing.md tells the whole design.

`Change` keeps only the latest change of each object (not a log of every write): a sync returns
an object once, in its current form, however often it changed, and a deleted object stays
listed as deleted until its record is purged (SYNC_TOKEN_MAX_AGE + a day, see services).
"""

from django.conf import settings
from django.db import models


class ChangeCounter(models.Model):
    """The last change number given out for a user's objects."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True
    )
    seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"change counter of user {self.owner_id}: {self.seq}"


class Change(models.Model):
    """The latest change of one object: its number, and whether it is now deleted."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False)
    kind = models.CharField(max_length=32)  # "task"
    object_id = models.BigIntegerField()
    seq = models.BigIntegerField()
    deleted = models.BooleanField(default=False)
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [
            # One record per reader and object: an object in a shared project is recorded for
            # each member who can see it, each in their own order (see the module's docstring).
            models.UniqueConstraint(
                fields=["owner", "kind", "object_id"], name="sync_change_reader_object_unique"
            )
        ]
        indexes = [
            # The feed: one range scan from a position, whatever the user's number of objects.
            models.Index(fields=["owner", "kind", "seq", "object_id"], name="sync_change_feed_idx"),
            # The purge of old deletion records; live objects' records are never purged.
            models.Index(
                fields=["changed_at"],
                condition=models.Q(deleted=True),
                name="sync_change_deleted_idx",
            ),
        ]

    def __str__(self) -> str:
        state = "deleted" if self.deleted else "changed"
        return f"{self.kind} {self.object_id} {state} at #{self.seq}"
