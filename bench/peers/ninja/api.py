"""The ninja peer's API: Schemas, an HttpBearer auth class, ORM views (see __init__.py)."""

import base64
import json
from datetime import UTC, date, datetime
from typing import Any, Literal

import jwt
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, NinjaAPI, PatchDict, Query, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer
from pydantic import field_serializer

from taskapi.accounts.models import User
from taskapi.projects.models import Membership, Project
from taskapi.sync.models import Change, ChangeCounter
from taskapi.tasks.models import POSITION_GAP, Task, TaskLabel

MAX_ATTEMPTS = 3  # taskapi.tasks.services.MAX_WRITE_ATTEMPTS
WRITERS = ("owner", "editor")  # the roles that may write tasks (taskapi.projects.policy)

Priority = Literal["low", "medium", "high"]
Ordering = Literal[
    "created_at", "-created_at", "due_date", "-due_date", "updated_at", "-updated_at"
]


# --- auth --------------------------------------------------------------------------------------
class JWTAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        try:
            payload = jwt.decode(token, settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"])
        except jwt.PyJWTError:
            return None
        if payload.get("token_type") != "access":
            return None
        user = User.objects.filter(pk=payload.get("user_id"), is_active=True).first()
        if user is None or user.token_version != payload.get("ver"):
            return None
        return user


api = NinjaAPI(auth=JWTAuth(), title="tasks (django-ninja peer)", urls_namespace="peer")


# --- schemas -----------------------------------------------------------------------------------
class TaskIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    completed: bool = False
    priority: Priority = "medium"
    due_date: date | None = None


class TaskOut(Schema):
    id: int
    title: str
    description: str
    completed: bool
    completed_at: datetime | None
    priority: str
    due_date: date | None
    due_at: datetime | None
    time_zone: str | None
    created_at: datetime
    updated_at: datetime
    labels: list[int]
    parent_id: int | None
    position: int
    project_id: int
    assignee_id: int | None

    @staticmethod
    def resolve_labels(task: Task) -> list[int]:
        return sorted(link.label_id for link in task.label_links.all())

    @field_serializer("completed_at", "due_at", "created_at", "updated_at")
    def utc(self, value: datetime | None) -> str | None:
        # The project's format (DRF's): UTC, "Z", microseconds when there are some. Django's
        # JSON encoder, which ninja renders with, would cut them to milliseconds.
        return None if value is None else value.astimezone(UTC).isoformat()[:-6] + "Z"


class TaskPage(Schema):
    next: str | None
    previous: str | None
    results: list[TaskOut]


class TaskListParams(Schema):
    page_size: int = Field(20, ge=1, le=100)
    cursor: str | None = None
    completed: bool | None = None
    priority: Priority | None = None
    ordering: Ordering = "-created_at"


# --- queries -----------------------------------------------------------------------------------
def live_tasks(user: User) -> QuerySet[Task]:
    """The tasks of the projects the user is a member of, with the user's own labels (labels
    are personal)."""
    own_labels = Prefetch("label_links", queryset=TaskLabel.objects.filter(label__owner=user))
    return Task.objects.filter(
        project__memberships__user=user, deleted_at__isnull=True
    ).prefetch_related(own_labels)


def encode_cursor(ordering: str, task: Task, backwards: bool) -> str:
    value = getattr(task, ordering.lstrip("-").replace("due_date", "due_day"))
    raw = [ordering, value.isoformat() if value is not None else None, task.pk, backwards]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()


def decode_cursor(cursor: str, ordering: str) -> tuple[Any, int, bool]:
    try:
        cursor_ordering, value, task_id, backwards = json.loads(base64.urlsafe_b64decode(cursor))
        if cursor_ordering != ordering or not isinstance(task_id, int):
            raise ValueError("not a cursor of this ordering")
        if value is not None:
            is_date = ordering.lstrip("-") == "due_date"
            value = date.fromisoformat(value) if is_date else datetime.fromisoformat(value)
    except (ValueError, TypeError):
        raise HttpError(400, "Invalid cursor") from None
    return value, task_id, bool(backwards)


def page_link(request: HttpRequest, cursor: str) -> str:
    params = request.GET.copy()
    params["cursor"] = cursor
    return f"{request.build_absolute_uri(request.path)}?{params.urlencode()}"


def record_change(task: Task, now: datetime) -> None:
    """The project's change log (taskapi.sync), for every member of the task's project in
    ascending user id: the member's next number, the task's record for them."""
    readers = Membership.objects.filter(project_id=task.project_id).order_by("user_id")
    for reader in readers.values_list("user_id", flat=True):
        counter = ChangeCounter.objects.filter(owner_id=reader)
        if not counter.update(seq=F("seq") + 1):
            ChangeCounter.objects.create(owner_id=reader, seq=1)
        seq = counter.values_list("seq", flat=True).get()
        Change.objects.bulk_create(
            [Change(owner_id=reader, kind="task", object_id=task.pk, seq=seq, changed_at=now)],
            update_conflicts=True,
            unique_fields=["owner", "kind", "object_id"],
            update_fields=["seq", "deleted", "changed_at"],
        )


# --- views -------------------------------------------------------------------------------------
@api.get("/health/", auth=None)
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}


@api.get("/tasks/", response=TaskPage)
def list_tasks(request: HttpRequest, params: Query[TaskListParams]) -> dict[str, Any]:
    tasks = live_tasks(request.auth)
    if params.completed is not None:
        tasks = tasks.filter(completed=params.completed)
    if params.priority is not None:
        tasks = tasks.filter(priority=params.priority)
    ordering = params.ordering
    field = ordering.lstrip("-").replace("due_date", "due_day")
    descending = ordering.startswith("-")
    backwards = False
    if params.cursor:
        value, after_id, backwards = decode_cursor(params.cursor, ordering)
        # Walking back is walking the other way; NULLs sort last ascending, first descending.
        later = "gt" if descending == backwards else "lt"
        if value is None:
            seek = Q(**{f"{field}__isnull": True, f"id__{later}": after_id})
            tasks = tasks.filter(seek if later == "gt" else seek | Q(**{f"{field}__isnull": False}))
        else:
            seek = Q(**{f"{field}__{later}": value}) | Q(**{field: value, f"id__{later}": after_id})
            tasks = tasks.filter(seek | Q(**{f"{field}__isnull": True}) if later == "gt" else seek)
    if descending != backwards:
        tasks = tasks.order_by(F(field).desc(nulls_first=True), "-id")
    else:
        tasks = tasks.order_by(F(field).asc(nulls_last=True), "id")
    page = list(tasks[: params.page_size + 1])
    has_more = len(page) > params.page_size
    page = page[: params.page_size]
    if backwards:
        page.reverse()
    has_next, has_previous = (True, has_more) if backwards else (has_more, bool(params.cursor))
    return {
        "next": page_link(request, encode_cursor(ordering, page[-1], False))
        if page and has_next
        else None,
        "previous": page_link(request, encode_cursor(ordering, page[0], True))
        if page and has_previous
        else None,
        "results": page,
    }


@api.get("/tasks/{task_id}/", response=TaskOut)
def get_task(request: HttpRequest, task_id: int) -> Task:
    return get_object_or_404(live_tasks(request.auth), pk=task_id)


@api.post("/tasks/", response={201: TaskOut})
def create_task(request: HttpRequest, payload: TaskIn) -> Task:
    user = request.auth
    now = timezone.now()
    with transaction.atomic():
        # As the project: the user's Inbox locked, then the new task goes last at its top level.
        inbox = Project.objects.select_for_update(no_key=True).get(owner=user, inbox=True)
        last = Task.objects.filter(project=inbox, parent=None, deleted_at__isnull=True).aggregate(
            Max("position")
        )["position__max"]
        task = Task.objects.create(
            project=inbox,
            created_by=user,
            **payload.dict(),
            completed_at=now if payload.completed else None,
            due_day=payload.due_date,
            created_at=now,
            updated_at=now,
            position=0 if last is None else last + POSITION_GAP,
        )
        record_change(task, now)
    return task


@api.patch("/tasks/{task_id}/", response=TaskOut)
def update_task(request: HttpRequest, task_id: int, payload: PatchDict[TaskIn]) -> Task:
    user = request.auth
    for _attempt in range(MAX_ATTEMPTS):
        task = get_object_or_404(live_tasks(user), pk=task_id)
        role = Membership.objects.filter(project_id=task.project_id, user=user).values("role")
        if role.get()["role"] not in WRITERS:
            raise HttpError(403, "Your role lacks task:write")
        now = timezone.now()
        values = {**payload, "updated_at": now, "version": task.version + 1}
        if not values.get("completed", task.completed):
            values["completed_at"] = None
        elif not task.completed:
            values["completed_at"] = now
        if "due_date" in values:
            values["due_day"] = values["due_date"]
        with transaction.atomic():
            # UPDATE ... WHERE id AND version: no write based on a stale read.
            written = Task.objects.filter(
                pk=task.pk, project_id=task.project_id, version=task.version, deleted_at=None
            ).update(**values)
            if written:
                record_change(task, now)
        if written:
            for name, value in values.items():
                setattr(task, name, value)
            return task
    raise HttpError(409, "The task changed meanwhile")
