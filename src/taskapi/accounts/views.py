from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taskapi.accounts import schema, services
from taskapi.accounts.selectors import user_get
from taskapi.accounts.serializers import (
    ChangePasswordIn,
    DeleteAccountIn,
    LoginIn,
    RefreshIn,
    RegisterIn,
    TokenPairOut,
    UserOut,
)
from taskapi.accounts.throttling import RateLimitHeadersMixin
from taskapi.accounts.tokens import TokenPair
from taskapi.core.requests import AuthenticatedRequest

# Tokens are credentials: no cache, shared or private, may keep a copy (RFC 6749 section 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _token_response(pair: TokenPair) -> Response:
    return Response(TokenPairOut(pair).data, headers=NO_STORE)


class RegisterView(RateLimitHeadersMixin, APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "register"

    @schema.register
    def post(self, request: Request) -> Response:
        data = RegisterIn(data=request.data).validated()
        user = services.user_register(email=data["email"], password=data["password"])
        return Response(UserOut(user).data, status=201, headers={"Location": "/auth/me/"})


class LoginView(RateLimitHeadersMixin, APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "login"

    @schema.login
    def post(self, request: Request) -> Response:
        data = LoginIn(data=request.data).validated()
        return _token_response(
            services.token_obtain(email=data["email"], password=data["password"])
        )


class RefreshView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @schema.refresh
    def post(self, request: Request) -> Response:
        data = RefreshIn(data=request.data).validated()
        return _token_response(services.token_refresh(refresh=data["refresh"]))


class LogoutView(APIView):
    @schema.logout
    def post(self, request: AuthenticatedRequest) -> Response:
        data = RefreshIn(data=request.data).validated()
        services.token_revoke(user_id=request.user.id, refresh=data["refresh"])
        return Response(status=204)


class MeView(APIView):
    @schema.me
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(UserOut(user_get(user_id=request.user.id)).data)

    @schema.delete_account
    def delete(self, request: AuthenticatedRequest) -> Response:
        data = DeleteAccountIn(data=request.data).validated()
        services.user_delete(user=user_get(user_id=request.user.id), password=data["password"])
        return Response(status=204)


class ChangePasswordView(APIView):
    @schema.change_password
    def post(self, request: AuthenticatedRequest) -> Response:
        data = ChangePasswordIn(data=request.data).validated()
        services.user_change_password(
            user=user_get(user_id=request.user.id),
            current_password=data["current_password"],
            new_password=data["new_password"],
        )
        return Response(status=204)
