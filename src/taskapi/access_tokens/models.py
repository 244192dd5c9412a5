"""Personal access tokens: a user's credentials for scripts and integrations (secrets.py has
the token's text). A row holds what the token may do and until when; never the secret."""

from django.conf import settings
from django.db import models
from django.utils import timezone

NAME_MAX_LENGTH = 100
MAX_TOKENS_PER_USER = 50
MAX_LIFETIME_DAYS = 366


class Scope(models.TextChoices):
    """What a token may do, by resource. `write` includes `read` of the same resource: the
    contract lists both as alternatives of each reading operation."""

    TASKS_READ = "tasks:read"
    TASKS_WRITE = "tasks:write"
    PROJECTS_READ = "projects:read"
    PROJECTS_WRITE = "projects:write"
    LABELS_READ = "labels:read"
    LABELS_WRITE = "labels:write"
    WEBHOOKS_READ = "webhooks:read"
    WEBHOOKS_WRITE = "webhooks:write"
    ACCOUNT_READ = "account:read"


class PersonalAccessToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens"
    )
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    # secrets.py: the token's public part, unique, the one index a request looks up.
    key_id = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)  # SHA-256 of the secret, hex
    scopes = models.JSONField()  # a sorted list of Scope values
    # The user's token_version when the token was made: a password change raises it, which ends
    # the token even before the rows are deleted.
    user_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"access token {self.pk}: {self.name}"
