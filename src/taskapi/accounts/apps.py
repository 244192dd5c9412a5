from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "taskapi.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Registers the bearer scheme of AccessTokenAuthentication with drf-spectacular.
        from taskapi.accounts import schema  # noqa: F401
