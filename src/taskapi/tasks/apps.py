from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "taskapi.tasks"
    label = "tasks"

    def ready(self) -> None:
        # Connects the receivers that take a deleted label off its tasks, and that follow
        # membership changes of projects.
        from taskapi.tasks import labelling, membership  # noqa: F401
