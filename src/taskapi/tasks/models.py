from django.conf import settings
from django.db import models
from django.db.models.functions import Length, Trim
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils import timezone

from taskapi.labels.models import Label

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 10_000
MAX_LABELS_PER_TASK = 20
# The longest IANA zone name is 32 characters; twice that leaves room for new ones.
TIME_ZONE_MAX_LENGTH = 64


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

    # Every task is in one project (its Inbox unless another is chosen); who may read or write
    # it is the caller's role there (taskapi.projects.policy). No separate index on project:
    # every index below starts with it (project first, then the ordering key and id).
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    # Who created it: kept when that account goes (its tasks in others' projects stay theirs).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_tasks",
        db_index=False,
    )
    # A member of the project, or nobody (services keep it so, and unassign a leaving member).
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tasks",
    )
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    description = models.TextField(default="", blank=True)
    completed = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    priority = models.CharField(max_length=6, choices=Priority.choices, default=Priority.MEDIUM)
    due_date = models.DateField(null=True, blank=True)
    # A due instant and the IANA zone it is meant in (tasks/due.py); at most one of due_date
    # and due_at is set.
    due_at = models.DateTimeField(null=True, blank=True)
    # NULL, not "", for "no zone": the contract's value is null, and a constraint pairs it
    # with due_at's NULL.
    time_zone = models.CharField(  # noqa: DJ001
        max_length=TIME_ZONE_MAX_LENGTH, null=True, blank=True
    )
    # Internal, never rendered: the day the task is due, due_date or the local date of due_at
    # in time_zone. The due filters, the due_date ordering and its index use it, so that
    # all-day and timed tasks sort and filter together by the day their owner sees.
    due_day = models.DateField(null=True, blank=True)
    # Bumped on every write; the ETag, and the condition of every conditional UPDATE.
    version = models.PositiveIntegerField(default=1)
    # Set explicitly (not auto_now): writes are queryset UPDATEs, which skip auto_now.
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Set while the task is in the trash; every selector but the trash's leaves such rows out.
    deleted_at = models.DateTimeField(null=True, blank=True)
    labels = models.ManyToManyField(Label, through="TaskLabel", related_name="tasks")
    # Another task of the same project (services enforce it, and the depth and no cycles).
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    # Rank among the siblings (same project, same parent): see services_positions.py.
    position = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["project", "created_at", "id"], name="task_project_created_idx"),
            models.Index(fields=["project", "updated_at", "id"], name="task_project_updated_idx"),
            models.Index(fields=["project", "due_day", "id"], name="task_project_due_day_idx"),
            # Partial: they hold only the trash, which is small beside the live tasks.
            models.Index(
                fields=["project", "deleted_at", "id"],
                condition=models.Q(deleted_at__isnull=False),
                name="task_project_trashed_idx",
            ),
            models.Index(
                fields=["deleted_at"],
                condition=models.Q(deleted_at__isnull=False),
                name="task_trashed_at_idx",
            ),
            # Children of a task or the top-level tasks, in their manual order.
            models.Index(
                fields=["project", "parent", "position", "id"], name="task_project_parent_pos_idx"
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
            # A task is due on a day or at an instant, never both; a zone goes with an instant.
            models.CheckConstraint(
                condition=models.Q(due_date__isnull=True) | models.Q(due_at__isnull=True),
                name="task_due_date_or_due_at",
            ),
            models.CheckConstraint(
                condition=models.Q(due_at__isnull=True, time_zone__isnull=True)
                | models.Q(due_at__isnull=False, time_zone__isnull=False),
                name="task_time_zone_matches_due_at",
            ),
            # due_day follows due_date whatever code path writes the row, and is set exactly
            # when the task is due at all (its value for due_at needs the zone database).
            # `due_day IS NOT NULL` too: a NULL comparison is unknown, which a CHECK lets pass.
            models.CheckConstraint(
                condition=models.Q(due_date__isnull=True, due_at__isnull=True, due_day__isnull=True)
                | models.Q(
                    due_date__isnull=False, due_day=models.F("due_date"), due_day__isnull=False
                )
                | models.Q(due_at__isnull=False, due_day__isnull=False),
                name="task_due_day_matches_due",
            ),
            # Backstops of the per-project lock that serializes position writes: no two live
            # siblings share a position. Trashed rows keep theirs and are left out, so a live
            # task may take a trashed one's slot; a restore then picks a new position.
            models.UniqueConstraint(
                fields=["parent", "position"],
                condition=models.Q(parent__isnull=False, deleted_at__isnull=True),
                name="task_child_position_unique",
            ),
            models.UniqueConstraint(
                fields=["project", "position"],
                condition=models.Q(parent__isnull=True, deleted_at__isnull=True),
                name="task_top_level_position_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"task {self.pk}: {self.title}"

    @property
    def label_ids(self) -> list[int]:
        """Ascending ids of the reader's labels on the task: as the services last wrote them,
        else as the selectors read them with the task for that reader (`label_ids_text`).

        No fallback query: labels are personal, and a task read without a reader would have
        to show every member's labels, which no answer may. A task rendered without them is
        a programming error, raised rather than leaked."""
        written: list[int] | None = self.__dict__.get("_label_ids")
        if written is not None:
            return written
        if "label_ids_text" in self.__dict__:
            text = self.__dict__["label_ids_text"]
            return sorted(int(part) for part in text.split(",")) if text else []
        raise LookupError(f"task {self.pk} was read without its reader's label ids")

    @label_ids.setter
    def label_ids(self, value: list[int]) -> None:
        self.__dict__["_label_ids"] = sorted(value)


class TaskLabel(models.Model):
    """A label on a task. Written only by tasks/labelling.py, which keeps versions and the
    change log in step."""

    # No single-column indexes: the two below start with each column.
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="label_links", db_index=False
    )
    label = models.ForeignKey(
        Label, on_delete=models.CASCADE, related_name="task_links", db_index=False
    )

    class Meta:
        constraints = [
            # Also the index that reads a task's labels (task first).
            models.UniqueConstraint(fields=["task", "label"], name="task_label_unique"),
        ]
        indexes = [
            # The label filter and a label's deletion look up tasks by label.
            models.Index(fields=["label", "task"], name="task_label_by_label_idx"),
        ]

    def __str__(self) -> str:
        return f"label {self.label_id} on task {self.task_id}"


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
