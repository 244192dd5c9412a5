from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "taskapi.tasks"
    label = "tasks"

    def ready(self) -> None:
        # Connects the receiver that takes a deleted label off its tasks.
        from taskapi.tasks import labelling  # noqa: F401
