from django.apps import AppConfig


class LabelsConfig(AppConfig):
    name = "taskapi.labels"
    label = "labels"
