from django.conf import settings
from django.db import models
from django.db.models.functions import Length, Trim
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils import timezone

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 10_000


class Priority(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


# The kind of a task's records in the change log (taskapi.sync).
SYNC_KIND = "task"

# Subtasks: a top-level task has depth 1; a task may be nested this deep at most. Bounded so
# that walking a subtree or the ancestors of a task is a few queries, one per level.
MAX_DEPTH = 4
# Positions are integer ranks among siblings, created this far apart so that a move usually
# finds a free integer between its neighbours (16 moves into the same gap before a rebalance).
POSITION_GAP = 2**16
# |position| stays below this, so a JavaScript client reads it exactly (Number.MAX_SAFE_INTEGER).
POSITION_LIMIT = 2**53


class Task(models.Model):
    Priority = Priority

    # No separate index on owner: every index below starts with it (owner first, then the
    # ordering key and id), which is what listing and the cascade delete need.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    description = models.TextField(default="", blank=True)
    completed = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    priority = models.CharField(max_length=6, choices=Priority.choices, default=Priority.MEDIUM)
    due_date = models.DateField(null=True, blank=True)
    # Bumped on every write; the ETag, and the condition of every conditional UPDATE.
    version = models.PositiveIntegerField(default=1)
    # Set explicitly (not auto_now): writes are queryset UPDATEs, which skip auto_now.
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Set while the task is in the trash; every selector but the trash's leaves such rows out.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Another task of the same owner (services enforce it, and the depth and no cycles).
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    # Rank among the siblings (same owner, same parent): see services_positions.py.
    position = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["owner", "created_at", "id"], name="task_owner_created_idx"),
            models.Index(fields=["owner", "updated_at", "id"], name="task_owner_updated_idx"),
            models.Index(fields=["owner", "due_date", "id"], name="task_owner_due_idx"),
            # Partial: they hold only the trash, which is small beside the live tasks.
            models.Index(
                fields=["owner", "deleted_at", "id"],
                condition=models.Q(deleted_at__isnull=False),
                name="task_owner_trashed_idx",
            ),
            models.Index(
                fields=["deleted_at"],
                condition=models.Q(deleted_at__isnull=False),
                name="task_trashed_at_idx",
            ),
            # Children of a task or the top-level tasks, in their manual order.
            models.Index(
                fields=["owner", "parent", "position", "id"], name="task_owner_parent_pos_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=GreaterThan(Length(Trim("title")), 0), name="task_title_not_blank"
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("description"), DESCRIPTION_MAX_LENGTH),
                name="task_description_max_length",
            ),
            models.CheckConstraint(
                condition=models.Q(priority__in=Priority.values),
                name="task_priority_valid",
            ),
            # completed_at follows completed, whatever code path writes the row.
            models.CheckConstraint(
                condition=models.Q(completed=True, completed_at__isnull=False)
                | models.Q(completed=False, completed_at__isnull=True),
                name="task_completed_at_matches_completed",
            ),
            # Backstops of the per-user lock that serializes position writes: no two live
            # siblings share a position. Trashed rows keep theirs and are left out, so a live
            # task may take a trashed one's slot; a restore then picks a new position.
            models.UniqueConstraint(
                fields=["parent", "position"],
                condition=models.Q(parent__isnull=False, deleted_at__isnull=True),
                name="task_child_position_unique",
            ),
            models.UniqueConstraint(
                fields=["owner", "position"],
                condition=models.Q(parent__isnull=True, deleted_at__isnull=True),
                name="task_top_level_position_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"task {self.pk}: {self.title}"


class IdempotencyRecord(models.Model):
    """The first response to a POST /tasks/ with an Idempotency-Key, replayed for repeats."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False)
    key = models.CharField(max_length=255)
    # sha256 (hex) of the canonical JSON of the parsed request body.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            # Also the index for the lookup by (owner, key); a second request with the same key
            # waits on it until the first one's transaction ends.
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique"),
        ]

    def __str__(self) -> str:
        return f"idempotency key {self.key!r} of user {self.owner_id}"
