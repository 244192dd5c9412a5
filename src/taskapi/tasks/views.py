from contextlib import AbstractContextManager
from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from rest_framework import status
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taskapi.core.pagination import page_size_from
from taskapi.core.requests import AuthenticatedRequest
from taskapi.projects import policy
from taskapi.tasks import changes, schema
from taskapi.tasks.bulk import bulk_operations, task_bulk
from taskapi.tasks.conditions import (
    if_match_versions,
    if_none_match_matches,
    task_etag,
    version_etag,
)
from taskapi.tasks.filters import task_list_filtered, trash_project_filter
from taskapi.tasks.idempotency import (
    KEY_PATTERN,
    request_fingerprint,
    respond_once,
    task_create_idempotent,
)
from taskapi.tasks.models import Task
from taskapi.tasks.pagination import TaskCursorPagination
from taskapi.tasks.render import (
    TASK_COLUMNS,
    json_response,
    page_body,
    task_body,
    task_rows,
)
from taskapi.tasks.selectors import (
    task_get,
    task_page_projects,
    task_page_source,
    task_trash_of_project,
    task_values_get,
)
from taskapi.tasks.serializers import (
    TaskCreateIn,
    TaskMoveIn,
    TaskOut,
    TaskPatchIn,
    TaskReplaceIn,
)
from taskapi.tasks.services import (
    KEEP_PARENT,
    task_create,
    task_ensure_version,
    task_erase,
    task_move,
    task_restore,
    task_trash,
    task_update,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"


def _created(task: Task) -> tuple[dict[str, Any], dict[str, str]]:
    location = reverse("taskGet", kwargs={"task_id": task.pk})
    return dict(TaskOut(task).data), {"Location": location, "ETag": task_etag(task)}


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not KEY_PATTERN.fullmatch(key):
        raise ValidationError(
            {
                IDEMPOTENCY_HEADER: [
                    ErrorDetail("Use 1 to 255 visible ASCII characters.", code="invalid")
                ]
            }
        )
    return key


def _write_refusals(request: AuthenticatedRequest, task: Task) -> AbstractContextManager[None]:
    """A write to `task`: a member without task:write hears 403 before its 412 or 400."""
    return policy.before_other_refusals(
        user=request.user, projects=lambda: [task.project_id], permission=policy.TASK_WRITE
    )


class TaskListView(APIView):
    @schema.task_list
    def get(self, request: AuthenticatedRequest) -> HttpResponse:
        projects = task_page_projects(user=request.user)
        tasks, ordering = task_list_filtered(
            request.query_params,
            task_page_source(user=request.user, projects=projects),
            user=request.user,
        )
        paginator = TaskCursorPagination(ordering=ordering, projects=projects)
        rows = task_rows(tasks, paginator.sort_key.field)
        page = paginator.paginate_queryset(rows, request, view=self)
        return json_response(page_body(paginator, page))

    @schema.task_create
    def post(self, request: AuthenticatedRequest) -> Response:
        key = _idempotency_key(request)
        named = request.data.get("project_id") if isinstance(request.data, dict) else None
        projects = [named] if type(named) is int else []
        with policy.before_other_refusals(
            user=request.user, projects=lambda: projects, permission=policy.TASK_WRITE
        ):
            data = TaskCreateIn(data=request.data).validated()
        if key is None:
            body, headers = _created(task_create(user=request.user, data=data))
            return Response(body, status=status.HTTP_201_CREATED, headers=headers)
        result = task_create_idempotent(
            user=request.user,
            key=key,
            fingerprint=request_fingerprint(request.data),
            data=data,
            render=_created,
        )
        headers = dict(result.headers)
        if result.replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(result.body, status=result.status, headers=headers)


class TaskBulkView(APIView):
    @schema.task_bulk
    def post(self, request: AuthenticatedRequest) -> Response:
        key = _idempotency_key(request)
        operations = bulk_operations(request.data)
        if key is None:
            # No answer to store: each operation commits on its own (see tasks/bulk.py).
            results = task_bulk(user=request.user, operations=operations)
            return Response({"results": results})

        def perform() -> tuple[int, dict[str, Any], dict[str, str]]:
            return 200, {"results": task_bulk(user=request.user, operations=operations)}, {}

        result = respond_once(
            user=request.user,
            key=key,
            fingerprint=request_fingerprint(request.data, operation="taskBulk"),
            perform=perform,
        )
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        return Response(result.body, status=result.status, headers=headers)


class TaskDetailView(APIView):
    @schema.task_get
    def get(self, request: AuthenticatedRequest, task_id: int) -> HttpResponse:
        row = task_values_get(user=request.user, task_id=task_id, columns=TASK_COLUMNS)
        etag = version_etag(row["version"])
        if if_none_match_matches(request.headers.get("If-None-Match"), row["version"]):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return json_response(task_body(row), headers={"ETag": etag})

    @schema.task_replace
    def put(self, request: AuthenticatedRequest, task_id: int) -> Response:
        return self._write(request, task_id, TaskReplaceIn)

    @schema.task_update
    def patch(self, request: AuthenticatedRequest, task_id: int) -> Response:
        return self._write(request, task_id, TaskPatchIn)

    @schema.task_delete
    def delete(self, request: AuthenticatedRequest, task_id: int) -> Response:
        expected = if_match_versions(request.headers.get("If-Match"))
        task_trash(user=request.user, task_id=task_id, expected_versions=expected)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _write(
        self, request: AuthenticatedRequest, task_id: int, serializer: type[TaskCreateIn]
    ) -> Response:
        task = task_get(user=request.user, task_id=task_id)
        with _write_refusals(request, task):
            expected = if_match_versions(request.headers.get("If-Match"))
            # RFC 9110 §13.2.2: preconditions are evaluated before the content is looked at.
            task_ensure_version(task=task, expected_versions=expected)
            changes = serializer(data=request.data).validated()
        task = task_update(
            user=request.user, task=task, changes=changes, expected_versions=expected
        )
        return Response(TaskOut(task).data, headers={"ETag": task_etag(task)})


class TaskRestoreView(APIView):
    @schema.task_restore
    def post(self, request: AuthenticatedRequest, task_id: int) -> Response:
        expected = if_match_versions(request.headers.get("If-Match"))
        task = task_restore(user=request.user, task_id=task_id, expected_versions=expected)
        return Response(TaskOut(task).data, headers={"ETag": task_etag(task)})


class TaskMoveView(APIView):
    @schema.task_move
    def post(self, request: AuthenticatedRequest, task_id: int) -> Response:
        task = task_get(user=request.user, task_id=task_id)
        with _write_refusals(request, task):
            expected = if_match_versions(request.headers.get("If-Match"))
            # 404, 403 and 412 (RFC 9110 §13.2.2) come before the body is looked at.
            task_ensure_version(task=task, expected_versions=expected)
            destination = TaskMoveIn(data=request.data).validated()
        task = task_move(
            user=request.user,
            task_id=task_id,
            parent_id=destination.get("parent_id", KEEP_PARENT),
            after_id=destination.get("after_id"),
            project_id=destination.get("project_id"),
            expected_versions=expected,
        )
        return Response(TaskOut(task).data, headers={"ETag": task_etag(task)})


class TaskTrashListView(APIView):
    @schema.task_trash_list
    def get(self, request: AuthenticatedRequest) -> HttpResponse:
        projects = task_page_projects(user=request.user, permission=policy.TRASH_READ)
        trash = task_page_source(user=request.user, permission=policy.TRASH_READ, projects=projects)
        project_id = trash_project_filter(request.query_params)
        if project_id is not None:
            trash = task_trash_of_project(user=request.user, project_id=project_id)
            projects = [project_id]
        paginator = TaskCursorPagination(ordering="-deleted_at", projects=projects)
        rows = task_rows(trash, "deleted_at")
        page = paginator.paginate_queryset(rows, request, view=self)
        return json_response(page_body(paginator, page, trashed=True))


class TaskTrashDetailView(APIView):
    @schema.task_erase
    def delete(self, request: AuthenticatedRequest, task_id: int) -> Response:
        task_erase(user=request.user, task_id=task_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TaskChangesView(APIView):
    @schema.task_changes
    def get(self, request: AuthenticatedRequest) -> Response:
        limit = page_size_from(
            request.query_params.get("page_size"),
            default=changes.DEFAULT_PAGE_SIZE,
            maximum=changes.MAX_PAGE_SIZE,
        )
        page = changes.task_changes(
            user=request.user, sync_token=request.query_params.get("sync_token"), limit=limit
        )
        return Response(
            {
                "tasks": TaskOut(page.tasks, many=True).data,
                "deleted": page.deleted,
                "sync_token": page.sync_token,
                "has_more": page.has_more,
            }
        )
