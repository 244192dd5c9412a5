"""drf-spectacular annotations of the webhook views (see core/schema.py)."""

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import F, OpenApiParameter, extend_schema

from taskapi.core.schema import (
    NO_BODY,
    REQUEST_ID,
    VALIDATION_PROBLEM,
    json_response,
    problem_responses,
)
from taskapi.webhooks.serializers import (
    DeliveryOut,
    DeliveryPageOut,
    WebhookCreateIn,
    WebhookListOut,
    WebhookOut,
    WebhookPatchIn,
    WebhookWithSecretOut,
)

WEBHOOK_ID = OpenApiParameter(
    "webhook_id", {"type": "integer", "format": "int64", "minimum": 1}, OpenApiParameter.PATH
)
CURSOR = OpenApiParameter("cursor", str, OpenApiParameter.QUERY)
PAGE_SIZE = OpenApiParameter(
    "page_size", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
)


def _webhook_operation(
    operation_id: str, parameters: list[OpenApiParameter], **kwargs: Any
) -> Callable[[F], F]:
    return extend_schema(
        operation_id=operation_id,
        tags=["webhooks"],
        parameters=[*parameters, REQUEST_ID],
        **kwargs,
    )


webhook_list = _webhook_operation(
    "webhookList", [], responses={**json_response(WebhookListOut), **problem_responses(401, 503)}
)
webhook_create = _webhook_operation(
    "webhookCreate",
    [],
    request=WebhookCreateIn,
    responses={
        **json_response(WebhookWithSecretOut, 201),
        **problem_responses(400, 401, 413, 415, 503),
    },
)
webhook_get = _webhook_operation(
    "webhookGet",
    [WEBHOOK_ID],
    responses={**json_response(WebhookOut), **problem_responses(401, 404, 503)},
)
webhook_update = _webhook_operation(
    "webhookUpdate",
    [WEBHOOK_ID],
    request=WebhookPatchIn,
    responses={**json_response(WebhookOut), **problem_responses(400, 401, 404, 413, 415, 503)},
)
webhook_delete = _webhook_operation(
    "webhookDelete",
    [WEBHOOK_ID],
    responses={204: NO_BODY, **problem_responses(401, 404, 503)},
)
webhook_rotate_secret = _webhook_operation(
    "webhookRotateSecret",
    [WEBHOOK_ID],
    request=None,
    responses={**json_response(WebhookWithSecretOut), **problem_responses(401, 404, 503)},
)
webhook_delivery_list = _webhook_operation(
    "webhookDeliveryList",
    [WEBHOOK_ID, CURSOR, PAGE_SIZE],
    responses={
        **json_response(DeliveryPageOut),
        **problem_responses(400, 401, 404, 503, status_400=VALIDATION_PROBLEM),
    },
)
webhook_test = _webhook_operation(
    "webhookTest",
    [WEBHOOK_ID],
    request=None,
    responses={**json_response(DeliveryOut, 202), **problem_responses(401, 404, 503)},
)
