"""drf-spectacular annotations of the label views (see core/schema.py)."""

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import F, OpenApiParameter, extend_schema

from taskapi.core.schema import NO_BODY, REQUEST_ID, json_response, problem_responses
from taskapi.labels.serializers import LabelCreateIn, LabelListOut, LabelOut, LabelPatchIn

LABEL_ID = OpenApiParameter(
    "label_id", {"type": "integer", "format": "int64", "minimum": 1}, OpenApiParameter.PATH
)


def _label_operation(
    operation_id: str, parameters: list[OpenApiParameter], **kwargs: Any
) -> Callable[[F], F]:
    return extend_schema(
        operation_id=operation_id, tags=["labels"], parameters=[*parameters, REQUEST_ID], **kwargs
    )


label_list = _label_operation(
    "labelList", [], responses={**json_response(LabelListOut), **problem_responses(401, 503)}
)

label_create = _label_operation(
    "labelCreate",
    [],
    request=LabelCreateIn,
    responses={
        **json_response(LabelOut, 201),
        **problem_responses(400, 401, 413, 415, 503),
    },
)

label_get = _label_operation(
    "labelGet",
    [LABEL_ID],
    responses={**json_response(LabelOut), **problem_responses(401, 404, 503)},
)

label_update = _label_operation(
    "labelUpdate",
    [LABEL_ID],
    request=LabelPatchIn,
    responses={**json_response(LabelOut), **problem_responses(400, 401, 404, 413, 415, 503)},
)

label_delete = _label_operation(
    "labelDelete",
    [LABEL_ID],
    responses={204: NO_BODY, **problem_responses(401, 404, 503)},
)
