from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "taskapi.sync"
    label = "sync"
