from django.urls import reverse
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from taskapi.core.pagination import NewestFirstPagination
from taskapi.core.parsers import body_required
from taskapi.core.requests import AuthenticatedRequest
from taskapi.webhooks import schema
from taskapi.webhooks.selectors import delivery_list, webhook_get, webhook_list
from taskapi.webhooks.serializers import (
    DeliveryOut,
    WebhookCreateIn,
    WebhookOut,
    WebhookPatchIn,
    WebhookWithSecretOut,
)
from taskapi.webhooks.services import (
    webhook_create,
    webhook_delete,
    webhook_rotate_secret,
    webhook_test,
    webhook_update,
)


class WebhookListView(APIView):
    @schema.webhook_list
    def get(self, request: AuthenticatedRequest) -> Response:
        # All of them, in one answer: a user has at most MAX_WEBHOOKS_PER_USER.
        return Response({"results": WebhookOut(webhook_list(user=request.user), many=True).data})

    @schema.webhook_create
    def post(self, request: AuthenticatedRequest) -> Response:
        data = WebhookCreateIn(data=request.data).validated()
        webhook = webhook_create(user=request.user, data=data)
        location = reverse("webhookGet", kwargs={"webhook_id": webhook.pk})
        return Response(
            WebhookWithSecretOut(webhook).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )


class WebhookDetailView(APIView):
    @schema.webhook_get
    def get(self, request: AuthenticatedRequest, webhook_id: int) -> Response:
        return Response(WebhookOut(webhook_get(user=request.user, webhook_id=webhook_id)).data)

    @schema.webhook_update
    def patch(self, request: AuthenticatedRequest, webhook_id: int) -> Response:
        webhook = webhook_get(user=request.user, webhook_id=webhook_id)
        body_required(request)
        changes = WebhookPatchIn(data=request.data).validated()
        webhook = webhook_update(user=request.user, webhook=webhook, changes=changes)
        return Response(WebhookOut(webhook).data)

    @schema.webhook_delete
    def delete(self, request: AuthenticatedRequest, webhook_id: int) -> Response:
        webhook_delete(user=request.user, webhook_id=webhook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretView(APIView):
    @schema.webhook_rotate_secret
    def post(self, request: AuthenticatedRequest, webhook_id: int) -> Response:
        webhook = webhook_get(user=request.user, webhook_id=webhook_id)
        webhook = webhook_rotate_secret(user=request.user, webhook=webhook)
        return Response(WebhookWithSecretOut(webhook).data)


class WebhookDeliveryListView(APIView):
    @schema.webhook_delivery_list
    def get(self, request: AuthenticatedRequest, webhook_id: int) -> Response:
        webhook = webhook_get(user=request.user, webhook_id=webhook_id)
        paginator = NewestFirstPagination()
        page = paginator.paginate_queryset(delivery_list(endpoint=webhook), request, view=self)
        return paginator.get_paginated_response(DeliveryOut(page, many=True).data)


class WebhookTestView(APIView):
    @schema.webhook_test
    def post(self, request: AuthenticatedRequest, webhook_id: int) -> Response:
        webhook = webhook_get(user=request.user, webhook_id=webhook_id)
        delivery = webhook_test(user=request.user, webhook=webhook)
        return Response(DeliveryOut(delivery).data, status=status.HTTP_202_ACCEPTED)
