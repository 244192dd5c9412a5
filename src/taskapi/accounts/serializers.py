from rest_framework import serializers

# Long enough for any passphrase, short enough that nobody makes us hash megabytes.
PASSWORD_MAX_LENGTH = 1024


def password_field() -> serializers.CharField:
    # Never trimmed: leading and trailing spaces are part of a password.
    return serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=PASSWORD_MAX_LENGTH
    )


class RegisterIn(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = password_field()


class LoginIn(serializers.Serializer):
    # Not EmailField: a malformed email is just another unknown account (401), not a hint.
    email = serializers.CharField(max_length=254)
    password = password_field()


class RefreshIn(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class ChangePasswordIn(serializers.Serializer):
    current_password = password_field()
    new_password = password_field()


class DeleteAccountIn(serializers.Serializer):
    password = password_field()


class UserOut(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    date_joined = serializers.DateTimeField()


class TokenPairOut(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
