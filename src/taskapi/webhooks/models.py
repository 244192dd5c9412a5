"""Webhooks: a user's endpoints, the events sent to them (the outbox) and each delivery's log.

An `Event` and its `Delivery` rows are written in the transaction of the change they report
(webhooks/outbox.py), together with the queue row that makes a worker attempt the delivery
(django-tasks' database backend): no event without its change, no change without its event.
"""

import base64
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from taskapi.webhooks.sealing import seal, unseal

# A user's endpoints are listed whole, in one answer: this bounds that answer and the fan-out
# of each change.
MAX_WEBHOOKS_PER_USER = 10
URL_MAX_LENGTH = 2000
RESPONSE_BODY_MAX_LENGTH = 1024
ERROR_MAX_LENGTH = 500

TASK_EVENT_TYPES = (
    "task.created",
    "task.updated",
    "task.completed",
    "task.uncompleted",
    "task.deleted",
    "task.restored",
)
LABEL_EVENT_TYPES = ("label.created", "label.updated", "label.deleted")
EVENT_TYPES = (*TASK_EVENT_TYPES, *LABEL_EVENT_TYPES)
TEST_EVENT_TYPE = "webhook.test"

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_sealed_secret() -> str:
    return seal(new_secret())


def new_event_id() -> str:
    """`evt_` and 26 characters: 48 bits of milliseconds then 80 random bits (a ULID), so ids
    sort by time and never repeat."""
    value = (int(timezone.now().timestamp() * 1000) << 80) | secrets.randbits(80)
    chars = [_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5)]
    return "evt_" + "".join(chars)


class Endpoint(models.Model):
    class DisabledReason(models.TextChoices):
        GONE = "gone"  # the receiver answered 410 Gone

    # No separate index on owner: (owner, id) serves the list and every lookup by id.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    url = models.CharField(max_length=URL_MAX_LENGTH)
    event_types = models.JSONField()  # a list of EVENT_TYPES, each once
    active = models.BooleanField(default=True)
    disabled_reason = models.CharField(  # noqa: DJ001 (null is the API's "not disabled")
        max_length=16, choices=DisabledReason.choices, null=True, blank=True
    )
    # Needed in clear to sign (HMAC), so sealed rather than hashed: encrypted under a key that
    # only the environment holds (sealing.py). `secret` reads and sets it in clear.
    sealed_secret = models.TextField(default=new_sealed_secret)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["owner", "id"], name="webhook_endpoint_owner_idx")]

    def __str__(self) -> str:
        return f"webhook {self.pk} of user {self.owner_id}"

    @property
    def secret(self) -> str:
        return unseal(self.sealed_secret)

    @secret.setter
    def secret(self, value: str) -> None:
        self.sealed_secret = seal(value)


class Event(models.Model):
    """What happened, exactly as sent: the body is serialized once, so every attempt sends the
    same bytes (and the same signature input)."""

    id = models.CharField(primary_key=True, max_length=30, default=new_event_id, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    type = models.CharField(max_length=32)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="webhook_event_created_idx")]

    def __str__(self) -> str:
        return f"{self.type} {self.pk}"


class Delivery(models.Model):
    """One event to one endpoint: its attempts so far and their last outcome."""

    class State(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        GIVEN_UP = "given_up"

    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(  # noqa: DJ001
        max_length=ERROR_MAX_LENGTH, null=True, blank=True
    )
    last_response_body = models.TextField(null=True, blank=True)  # noqa: DJ001
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set while a worker makes an attempt: past it, the worker is presumed dead (killed
    # mid-delivery) and the recovery sweep enqueues the next attempt.
    lease_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The delivery log of an endpoint, newest first.
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_log_idx"),
            # The recovery sweep and the queue-depth gauge look at pending deliveries only.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="pending"),
                name="webhook_delivery_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} of {self.event_id}: {self.state}"
