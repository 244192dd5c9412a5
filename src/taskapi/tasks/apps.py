from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "taskapi.tasks"
    label = "tasks"
