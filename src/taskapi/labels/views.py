from django.urls import reverse
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from taskapi.core.parsers import body_required
from taskapi.core.requests import AuthenticatedRequest
from taskapi.labels import schema
from taskapi.labels.selectors import label_get, label_list
from taskapi.labels.serializers import LabelCreateIn, LabelOut, LabelPatchIn
from taskapi.labels.services import label_create, label_delete, label_update


class LabelListView(APIView):
    @schema.label_list
    def get(self, request: AuthenticatedRequest) -> Response:
        # All of them, in one answer: a user has at most MAX_LABELS_PER_USER.
        return Response({"results": LabelOut(label_list(user=request.user), many=True).data})

    @schema.label_create
    def post(self, request: AuthenticatedRequest) -> Response:
        data = LabelCreateIn(data=request.data).validated()
        label = label_create(user=request.user, data=data)
        location = reverse("labelGet", kwargs={"label_id": label.pk})
        return Response(
            LabelOut(label).data, status=status.HTTP_201_CREATED, headers={"Location": location}
        )


class LabelDetailView(APIView):
    @schema.label_get
    def get(self, request: AuthenticatedRequest, label_id: int) -> Response:
        return Response(LabelOut(label_get(user=request.user, label_id=label_id)).data)

    @schema.label_update
    def patch(self, request: AuthenticatedRequest, label_id: int) -> Response:
        label = label_get(user=request.user, label_id=label_id)
        body_required(request)
        changes = LabelPatchIn(data=request.data).validated()
        label = label_update(user=request.user, label=label, changes=changes)
        return Response(LabelOut(label).data)

    @schema.label_delete
    def delete(self, request: AuthenticatedRequest, label_id: int) -> Response:
        label_delete(user=request.user, label_id=label_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
