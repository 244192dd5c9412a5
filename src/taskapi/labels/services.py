"""Writes of labels. Names are unique per user ignoring case: the unique (owner, name_key)
constraint decides, so two concurrent creates of the same name cannot both succeed."""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from taskapi.core.scoping import HasId
from taskapi.labels import events
from taskapi.labels.errors import LabelLimitReached, LabelNameTaken
from taskapi.labels.models import MAX_LABELS_PER_USER, Label, name_key
from taskapi.labels.selectors import label_get, label_list
from taskapi.labels.signals import label_deleting


def _normalised(data: dict[str, Any]) -> dict[str, Any]:
    values = dict(data)
    if "name" in values:
        values["name_key"] = name_key(values["name"])
    if values.get("color") is not None:
        values["color"] = values["color"].lower()
    return values


def label_create(*, user: HasId, data: dict[str, Any]) -> Label:
    # The count is a soft bound (two racing creates may both pass it at 499): it caps what one
    # user can store, not an invariant anything relies on.
    if label_list(user=user).count() >= MAX_LABELS_PER_USER:
        raise LabelLimitReached()
    now = timezone.now()
    try:
        with transaction.atomic():
            label = Label.objects.create(
                **_normalised(data), owner_id=user.id, created_at=now, updated_at=now
            )
            events.label_event_record(type=events.CREATED, label=label)
            return label
    except IntegrityError:
        raise LabelNameTaken() from None


def label_update(*, user: HasId, label: Label, changes: dict[str, Any]) -> Label:
    """Rename or recolour. Tasks refer to labels by id, so none of them changes."""
    if not changes:
        return label
    values = {**_normalised(changes), "updated_at": timezone.now()}
    try:
        with transaction.atomic():
            updated = label_list(user=user).filter(pk=label.pk).update(**values)
            if updated:
                for field, value in values.items():
                    setattr(label, field, value)
                events.label_event_record(type=events.UPDATED, label=label)
    except IntegrityError:
        raise LabelNameTaken() from None
    if not updated:
        label_get(user=user, label_id=label.pk)  # deleted meanwhile: 404
    return label


@transaction.atomic
def label_delete(*, user: HasId, label_id: int) -> None:
    """Delete the label, and take it off its tasks (which count as changed) in one transaction."""
    # Locked first, so a task write that is putting this label on a task finishes before the
    # receivers look for the label's tasks (see selectors.label_ids_owned).
    label = label_get(user=user, label_id=label_id, for_update=True)
    label_deleting.send(sender=Label, owner_id=user.id, label_id=label.pk)
    events.label_event_record(type=events.DELETED, label=label)
    label.delete()
