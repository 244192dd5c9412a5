"""Seal every webhook signing secret again under the newest of WEBHOOKS_SECRET_KEYS: the step
between putting a new key first and dropping the old one (webhooks/sealing.py)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from taskapi.webhooks.models import Endpoint
from taskapi.webhooks.sealing import UnreadableSecret, reseal

BATCH = 500


class Command(BaseCommand):
    help = "Seal every webhook signing secret again under the newest WEBHOOKS_SECRET_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        resealed, last = 0, 0
        while True:
            # Batches by id, each its own transaction, rows locked: a rotation of the secret
            # meanwhile (its own UPDATE) is neither lost nor overwritten with the old one.
            with transaction.atomic():
                batch = list(
                    Endpoint.objects.select_for_update()
                    .filter(pk__gt=last)
                    .order_by("pk")
                    .only("pk", "sealed_secret")[:BATCH]
                )
                if not batch:
                    break
                for endpoint in batch:
                    try:
                        endpoint.sealed_secret = reseal(endpoint.sealed_secret)
                    except UnreadableSecret as error:
                        raise CommandError(
                            f"webhook {endpoint.pk}: {error}; nothing after it was resealed"
                        ) from error
                Endpoint.objects.bulk_update(batch, ["sealed_secret"])
            resealed += len(batch)
            last = batch[-1].pk
        self.stdout.write(f"resealed {resealed} webhook secrets under the newest key")
