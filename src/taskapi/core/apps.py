from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "taskapi.core"
    label = "core"
