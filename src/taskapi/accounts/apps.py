from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "taskapi.accounts"
    label = "accounts"
