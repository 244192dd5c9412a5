from rest_framework import serializers

from taskapi.core.schema import IdField
from taskapi.core.serializers import InputSerializer

# Long enough for any passphrase, short enough that nobody makes us hash megabytes.
PASSWORD_MAX_LENGTH = 4096
EMAIL_MAX_LENGTH = 254


def password_field() -> serializers.CharField:
    # Never trimmed: leading and trailing spaces are part of a password.
    return serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=PASSWORD_MAX_LENGTH
    )


class RegisterIn(InputSerializer):
    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)
    password = password_field()


class LoginIn(InputSerializer):
    # Not EmailField: a malformed email is just another unknown account (401), not a hint.
    email = serializers.CharField(max_length=EMAIL_MAX_LENGTH)
    password = password_field()


class RefreshIn(InputSerializer):
    # No length limit and no trimming: an overlong or whitespace-only token is a malformed one, a
    # 401 invalid-token like any other (openapi.yaml); the 1 MiB body limit bounds the work.
    refresh = serializers.CharField(trim_whitespace=False)


class ChangePasswordIn(InputSerializer):
    current_password = password_field()
    new_password = password_field()


class DeleteAccountIn(InputSerializer):
    password = password_field()


class UserOut(serializers.Serializer):
    id = IdField(read_only=True)
    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)
    date_joined = serializers.DateTimeField(read_only=True)


class TokenPairOut(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
