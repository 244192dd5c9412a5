from django.apps import AppConfig


class AccessTokensConfig(AppConfig):
    name = "taskapi.access_tokens"
    label = "access_tokens"

    def ready(self) -> None:
        from taskapi.access_tokens import receivers  # noqa: F401  (connects them)
