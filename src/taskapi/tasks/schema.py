"""drf-spectacular annotations of the task views (see core/schema.py).

The query parameters are validated by TaskFilter and TaskCursorPagination inside an APIView,
which drf-spectacular cannot introspect; they are declared here from the same constants.
"""

from collections.abc import Callable
from typing import Any, Final

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    F,
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers

from taskapi.core.errors import Conflict, NotFound, PreconditionFailed
from taskapi.core.schema import (
    ABOUT_BLANK,
    NO_BODY,
    PERMISSION_DENIED,
    REQUEST_ID,
    VALIDATION_PROBLEM,
    IdField,
    json_response,
    problem_responses,
    problem_schema,
)
from taskapi.sync.errors import SyncTokenExpired
from taskapi.tasks import bulk, changes
from taskapi.tasks.errors import IdempotencyKeyReused
from taskapi.tasks.filters import (
    ASSIGNEE_PATTERN,
    DEFAULT_ORDERING,
    MAX_LABEL_FILTERS,
    ORDERINGS,
    SEARCH_MAX_LENGTH,
)
from taskapi.tasks.models import Priority
from taskapi.tasks.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from taskapi.tasks.serializers import (
    TaskCreateIn,
    TaskMoveIn,
    TaskOut,
    TaskPatchIn,
    TaskReplaceIn,
    TrashedTaskOut,
)

QUERY: Final = OpenApiParameter.QUERY
HEADER: Final = OpenApiParameter.HEADER


class TaskPageOut(serializers.Serializer[Any]):
    """What TaskCursorPagination renders."""

    results = serializers.ListField(child=TaskOut(), max_length=MAX_PAGE_SIZE)
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class TrashedTaskPageOut(TaskPageOut):
    results = serializers.ListField(child=TrashedTaskOut(), max_length=MAX_PAGE_SIZE)


class TaskChangesOut(serializers.Serializer[Any]):
    tasks = serializers.ListField(child=TaskOut(), max_length=changes.MAX_PAGE_SIZE)
    deleted = serializers.ListField(child=IdField(read_only=True), max_length=changes.MAX_PAGE_SIZE)
    sync_token = serializers.CharField(min_length=1)
    has_more = serializers.BooleanField()


# POST /tasks/bulk/. tasks/bulk.py reads the envelope by hand (its errors name places such as
# `operations.3.op`, and an item's body is checked per operation, not for the whole call), so
# these serializers only describe it.
class TaskBulkCreateIn(serializers.Serializer[Any]):
    op = serializers.ChoiceField(choices=[bulk.CREATE])
    body = TaskCreateIn()


class TaskBulkUpdateIn(serializers.Serializer[Any]):
    op = serializers.ChoiceField(choices=[bulk.UPDATE])
    id = IdField()
    if_match = serializers.CharField(required=False, allow_blank=True)
    body = TaskPatchIn()


class TaskBulkDeleteIn(serializers.Serializer[Any]):
    op = serializers.ChoiceField(choices=[bulk.DELETE])
    id = IdField()
    if_match = serializers.CharField(required=False, allow_blank=True)


class TaskBulkIn(serializers.Serializer[Any]):
    operations = serializers.ListField(
        child=PolymorphicProxySerializer(
            component_name="TaskBulkOperation",
            serializers={
                bulk.CREATE: TaskBulkCreateIn,
                bulk.UPDATE: TaskBulkUpdateIn,
                bulk.DELETE: TaskBulkDeleteIn,
            },
            resource_type_field_name="op",
        ),
        min_length=1,
        max_length=bulk.MAX_OPERATIONS,
    )


class TaskBulkTaskResultOut(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=[200, 201])
    etag = serializers.CharField()
    body = TaskOut()


class TaskBulkDeletedResultOut(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=[204])


@extend_schema_field(
    {
        "anyOf": [
            VALIDATION_PROBLEM,
            problem_schema(404, NotFound.type, ABOUT_BLANK),
            problem_schema(409, Conflict.type),
            problem_schema(412, PreconditionFailed.type),
        ]
    }
)
class BulkProblemField(serializers.DictField):
    pass


class TaskBulkProblemResultOut(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=[400, 404, 409, 412])
    body = BulkProblemField()


class TaskBulkOut(serializers.Serializer[Any]):
    results = serializers.ListField(
        child=PolymorphicProxySerializer(
            component_name="TaskBulkResult",
            serializers=[TaskBulkTaskResultOut, TaskBulkDeletedResultOut, TaskBulkProblemResultOut],
            resource_type_field_name=None,
        ),
        min_length=1,
        max_length=bulk.MAX_OPERATIONS,
    )


_ID = {"type": "integer", "format": "int64", "minimum": 1}
TASK_ID = OpenApiParameter("task_id", _ID, OpenApiParameter.PATH)
IF_MATCH = OpenApiParameter("If-Match", OpenApiTypes.STR, HEADER)
IF_NONE_MATCH = OpenApiParameter("If-None-Match", OpenApiTypes.STR, HEADER)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    HEADER,
)

# The filter's pattern, anchored as JSON Schema (ECMA-262) spells it: no \A or \Z there.
_ASSIGNEE_PATTERN = "^" + ASSIGNEE_PATTERN.removeprefix(r"\A").removesuffix(r"\Z") + "$"
# A project the user is not a member of is a 404, as the project itself is (filters.py); in the
# trash, one whose trash the user's role may not read is a 403.
PROJECT_ID_FILTER = OpenApiParameter("project_id", _ID, QUERY)

LIST_PARAMETERS = [
    OpenApiParameter("cursor", OpenApiTypes.STR, QUERY),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
        QUERY,
    ),
    OpenApiParameter(
        "ordering", {"type": "string", "enum": list(ORDERINGS), "default": DEFAULT_ORDERING}, QUERY
    ),
    OpenApiParameter("completed", OpenApiTypes.BOOL, QUERY),
    OpenApiParameter("priority", {"type": "string", "enum": list(Priority.values)}, QUERY),
    OpenApiParameter("due_before", OpenApiTypes.DATE, QUERY),
    OpenApiParameter("due_after", OpenApiTypes.DATE, QUERY),
    OpenApiParameter("search", {"type": "string", "maxLength": SEARCH_MAX_LENGTH}, QUERY),
    OpenApiParameter(
        "label",
        {
            "type": "array",
            "maxItems": MAX_LABEL_FILTERS,
            "items": {"type": "integer", "format": "int64", "minimum": 1},
        },
        QUERY,
        style="form",
        explode=True,
    ),
    OpenApiParameter("parent_id", _ID, QUERY),
    OpenApiParameter("top_level", OpenApiTypes.BOOL, QUERY),
    PROJECT_ID_FILTER,
    OpenApiParameter("assignee", {"type": "string", "pattern": _ASSIGNEE_PATTERN}, QUERY),
]


def _task_operation(
    operation_id: str, parameters: list[OpenApiParameter], **kwargs: Any
) -> Callable[[F], F]:
    return extend_schema(
        operation_id=operation_id, tags=["tasks"], parameters=[*parameters, REQUEST_ID], **kwargs
    )


task_list = _task_operation(
    "taskList",
    LIST_PARAMETERS,
    responses={
        **json_response(TaskPageOut),
        **problem_responses(400, 401, 404, 503, status_400=VALIDATION_PROBLEM),
    },
)

# POST /tasks/ and POST /tasks/bulk/: both take an Idempotency-Key (409 in flight, 422 reused).
# 403: a member whose role lacks `task:write` in the project written to (policy.py).
_IDEMPOTENT_WRITE_PROBLEMS = problem_responses(
    400,
    401,
    403,
    409,
    413,
    415,
    422,
    503,
    status_403=PERMISSION_DENIED,
    status_422=problem_schema(422, IdempotencyKeyReused.type),
)

task_create = _task_operation(
    "taskCreate",
    [IDEMPOTENCY_KEY],
    request=TaskCreateIn,
    responses={
        **json_response(TaskOut, 201),
        **_IDEMPOTENT_WRITE_PROBLEMS,
    },
)

task_bulk = _task_operation(
    "taskBulk",
    [IDEMPOTENCY_KEY],
    request=TaskBulkIn,
    responses={
        **json_response(TaskBulkOut),
        **_IDEMPOTENT_WRITE_PROBLEMS,
    },
)

task_get = _task_operation(
    "taskGet",
    [TASK_ID, IF_NONE_MATCH],
    responses={**json_response(TaskOut), 304: NO_BODY, **problem_responses(401, 404, 503)},
)

# 409: a write without If-Match that lost its race MAX_WRITE_ATTEMPTS times (TaskWriteConflict).
_WRITE_PROBLEMS = problem_responses(
    400, 401, 403, 404, 409, 412, 413, 415, 503, status_403=PERMISSION_DENIED
)

task_replace = _task_operation(
    "taskReplace",
    [TASK_ID, IF_MATCH],
    request=TaskReplaceIn,
    responses={**json_response(TaskOut), **_WRITE_PROBLEMS},
)

task_update = _task_operation(
    "taskUpdate",
    [TASK_ID, IF_MATCH],
    request=TaskPatchIn,
    responses={**json_response(TaskOut), **_WRITE_PROBLEMS},
)

task_delete = _task_operation(
    "taskDelete",
    [TASK_ID, IF_MATCH],
    responses={
        204: NO_BODY,
        **problem_responses(401, 403, 404, 412, 503, status_403=PERMISSION_DENIED),
    },
)

task_restore = _task_operation(
    "taskRestore",
    [TASK_ID, IF_MATCH],
    request=None,
    responses={
        **json_response(TaskOut),
        **problem_responses(401, 403, 404, 409, 412, 503, status_403=PERMISSION_DENIED),
    },
)

task_move = _task_operation(
    "taskMove",
    [TASK_ID, IF_MATCH],
    request=TaskMoveIn,
    responses={
        **json_response(TaskOut),
        **problem_responses(400, 401, 403, 404, 412, 413, 415, 503, status_403=PERMISSION_DENIED),
    },
)

task_trash_list = _task_operation(
    "taskTrashList",
    [*LIST_PARAMETERS[:2], PROJECT_ID_FILTER],  # cursor, page_size, project_id
    responses={
        **json_response(TrashedTaskPageOut),
        **problem_responses(
            400,
            401,
            403,
            404,
            503,
            status_400=VALIDATION_PROBLEM,
            status_403=PERMISSION_DENIED,
        ),
    },
)

task_erase = _task_operation(
    "taskErase",
    [TASK_ID],
    responses={
        204: NO_BODY,
        **problem_responses(401, 403, 404, 503, status_403=PERMISSION_DENIED),
    },
)

task_changes = _task_operation(
    "taskChanges",
    [
        OpenApiParameter("sync_token", OpenApiTypes.STR, QUERY),
        OpenApiParameter(
            "page_size",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": changes.MAX_PAGE_SIZE,
                "default": changes.DEFAULT_PAGE_SIZE,
            },
            QUERY,
        ),
    ],
    responses={
        **json_response(TaskChangesOut),
        **problem_responses(
            400,
            401,
            410,
            503,
            status_400=VALIDATION_PROBLEM,
            status_410=problem_schema(410, SyncTokenExpired.type),
        ),
    },
)
