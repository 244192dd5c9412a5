from taskapi.core.errors import DomainError, FieldsInvalid

BEARER_CHALLENGE = 'Bearer realm="api"'
# RFC 6750 section 3: a token was given, and it is not (or no longer) good.
INVALID_TOKEN_CHALLENGE = f'{BEARER_CHALLENGE}, error="invalid_token"'


class InvalidCredentials(DomainError):
    # One body for "no such email" and "wrong password": the response must not tell them apart.
    status = 401
    type = "/problems/invalid-credentials"
    title = "Invalid credentials."
    detail = "The email or password is wrong."

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": BEARER_CHALLENGE}


class InvalidRefreshToken(DomainError):
    status = 401
    type = "/problems/invalid-token"
    title = "Invalid token."
    detail = "The refresh token is invalid, expired or revoked. Log in again."

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": INVALID_TOKEN_CHALLENGE}


class AccountGone(DomainError):
    # The access token was valid a moment ago, but its account has just been deleted.
    status = 401
    type = "/problems/not-authenticated"
    title = "Authentication required."
    detail = "The account of this token no longer exists."

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": INVALID_TOKEN_CHALLENGE}


class CurrentPasswordWrong(FieldsInvalid):
    def __init__(self, field: str = "current_password") -> None:
        super().__init__("The password is wrong.", field=field)
