"""A password change and an account deletion end every access token of the user."""

from typing import Any

from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from taskapi.access_tokens.services import tokens_forget_all, tokens_revoke_older
from taskapi.accounts.models import User


@receiver(post_save, sender=User, dispatch_uid="access_tokens_password_changed")
def _password_changed(sender: Any, instance: User, update_fields: Any = None, **_: Any) -> None:
    # accounts.services.user_change_password raises token_version, and saves just that field
    # (with the password): the one change that ends the user's credentials.
    if update_fields and "token_version" in update_fields:
        tokens_revoke_older(user_id=instance.pk, version=instance.token_version)


@receiver(pre_delete, sender=User, dispatch_uid="access_tokens_account_deleted")
def _account_deleted(sender: Any, instance: User, **_: Any) -> None:
    tokens_forget_all(user_id=instance.pk)
