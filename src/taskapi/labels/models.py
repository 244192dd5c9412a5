from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThan
from django.utils import timezone

NAME_MAX_LENGTH = 50
# A user's labels are listed whole, in one answer: this bounds that answer (and the table).
MAX_LABELS_PER_USER = 500


def name_key(name: str) -> str:
    """What makes two names the same label: Unicode case folding ("Straße" is "STRASSE").

    Computed here rather than with SQL LOWER(), which on SQLite folds ASCII only: both
    databases then refuse exactly the same duplicates.
    """
    return name.casefold()


class Label(models.Model):
    # No separate index on owner: the unique (owner, name_key) starts with it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="labels", db_index=False
    )
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    # name_key(name); case folding can lengthen a name ("ß" → "ss"), hence the room.
    name_key = models.CharField(max_length=3 * NAME_MAX_LENGTH)
    # "#rrggbb" in lower case, or null for none: the API's null, with no "" as a second "none".
    color = models.CharField(max_length=7, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "name_key"], name="label_owner_name_unique"),
            models.CheckConstraint(
                condition=GreaterThan(Length("name"), 0), name="label_name_not_empty"
            ),
            models.CheckConstraint(
                condition=models.Q(color__isnull=True) | models.Q(color__regex=r"^#[0-9a-f]{6}$"),
                name="label_color_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"label {self.pk}: {self.name}"
