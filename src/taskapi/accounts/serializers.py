from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from taskapi.core.schema import IdField
from taskapi.core.serializers import InputSerializer, StrictCharField, StrictEmailField

# Long enough for any passphrase, short enough that nobody makes us hash megabytes.
PASSWORD_MAX_LENGTH = 4096
EMAIL_MAX_LENGTH = 254


def password_field() -> StrictCharField:
    # Never trimmed: leading and trailing spaces are part of a password.
    return StrictCharField(write_only=True, trim_whitespace=False, max_length=PASSWORD_MAX_LENGTH)


class TokenField(StrictCharField):
    """A refresh token: any JSON string, which is either a valid token or a 401.

    No length limit and no trimming: an overlong or whitespace-only token is a malformed one, a
    401 invalid-token like any other (openapi.yaml); the 1 MiB body limit bounds the work. Nor
    CharField's NUL and surrogate refusals: a 400 `null_characters_not_allowed` would be a
    second answer to "this is not a token" that the contract does not document.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trim_whitespace=False, **kwargs)
        self.validators = [
            validator
            for validator in self.validators
            if not isinstance(
                validator, (ProhibitNullCharactersValidator, ProhibitSurrogateCharactersValidator)
            )
        ]


class RegisterIn(InputSerializer):
    email = StrictEmailField(max_length=EMAIL_MAX_LENGTH)
    password = password_field()


class LoginIn(InputSerializer):
    # Not EmailField: a malformed email is just another unknown account (401), not a hint.
    email = StrictCharField(max_length=EMAIL_MAX_LENGTH)
    password = password_field()


class RefreshIn(InputSerializer):
    refresh = TokenField()


class ChangePasswordIn(InputSerializer):
    current_password = password_field()
    new_password = password_field()


class DeleteAccountIn(InputSerializer):
    password = password_field()


class UserOut(serializers.Serializer[Any]):
    id = IdField(read_only=True)
    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)
    date_joined = serializers.DateTimeField(read_only=True)


class TokenPairOut(serializers.Serializer[Any]):
    access = serializers.CharField()
    refresh = serializers.CharField()
