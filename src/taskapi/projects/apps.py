from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "taskapi.projects"
    label = "projects"

    def ready(self) -> None:
        from taskapi.projects import receivers  # noqa: F401  (Inboxes, deleted accounts)
