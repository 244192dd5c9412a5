from django.urls import reverse
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from taskapi.access_tokens import schema
from taskapi.access_tokens.selectors import token_get, token_list
from taskapi.access_tokens.serializers import TokenCreateIn, TokenOut, TokenWithSecretOut
from taskapi.access_tokens.services import token_create, token_delete
from taskapi.core.requests import AuthenticatedRequest

NO_STORE = {"Cache-Control": "no-store"}


class TokenListView(APIView):
    @schema.token_list
    def get(self, request: AuthenticatedRequest) -> Response:
        # All of them, in one answer: a user has at most MAX_TOKENS_PER_USER.
        return Response({"results": TokenOut(token_list(user=request.user), many=True).data})

    @schema.token_create
    def post(self, request: AuthenticatedRequest) -> Response:
        data = TokenCreateIn(data=request.data).validated()
        token, text = token_create(user=request.user, **data)
        location = reverse("tokenGet", kwargs={"token_id": token.pk})
        return Response(
            TokenWithSecretOut(token, context={"token": text}).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location, **NO_STORE},
        )


class TokenDetailView(APIView):
    @schema.token_get
    def get(self, request: AuthenticatedRequest, token_id: int) -> Response:
        return Response(TokenOut(token_get(user=request.user, token_id=token_id)).data)

    @schema.token_delete
    def delete(self, request: AuthenticatedRequest, token_id: int) -> Response:
        token_delete(user=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
