"""Signing secrets sealed at rest (webhooks/sealing.py): each stored secret is encrypted under
the newest of WEBHOOKS_SECRET_KEYS, then the clear column goes. Reversible: unsealed back."""

from collections.abc import Callable

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

import taskapi.webhooks.models
from taskapi.webhooks.sealing import seal, unseal

BATCH = 1000


def _convert(apps: StateApps, *, source: str, target: str, convert: Callable[[str], str]) -> None:
    Endpoint = apps.get_model("webhooks", "Endpoint")
    batch = []
    for endpoint in Endpoint.objects.only("pk", source).iterator(chunk_size=BATCH):
        setattr(endpoint, target, convert(getattr(endpoint, source)))
        batch.append(endpoint)
        if len(batch) == BATCH:
            Endpoint.objects.bulk_update(batch, [target])
            batch = []
    Endpoint.objects.bulk_update(batch, [target])


def _seal_all(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _convert(apps, source="secret", target="sealed_secret", convert=seal)


def _unseal_all(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _convert(apps, source="sealed_secret", target="secret", convert=unseal)


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="endpoint", name="sealed_secret", field=models.TextField(default="")
        ),
        migrations.AlterField(
            model_name="endpoint", name="secret", field=models.CharField(max_length=64, default="")
        ),
        migrations.RunPython(_seal_all, _unseal_all),
        migrations.RemoveField(model_name="endpoint", name="secret"),
        migrations.AlterField(
            model_name="endpoint",
            name="sealed_secret",
            field=models.TextField(default=taskapi.webhooks.models.new_sealed_secret),
        ),
    ]
