"""Every read of labels goes through label_list, which scopes it to the user."""

from collections.abc import Collection

from django.db.models import QuerySet

from taskapi.core.scoping import MAX_ID, HasId, scoped_get
from taskapi.labels.errors import LabelNotFound
from taskapi.labels.models import Label


def label_list(*, user: HasId) -> QuerySet[Label]:
    return Label.objects.filter(owner_id=user.id).order_by("name_key", "id")


def label_get(*, user: HasId, label_id: int, for_update: bool = False) -> Label:
    """The label; with `for_update`, locked until the transaction ends (see label_ids_owned)."""
    labels = label_list(user=user)
    if for_update:
        labels = labels.select_for_update()
    return scoped_get(labels, object_id=label_id, not_found=LabelNotFound)


def label_ids_owned(*, user: HasId, label_ids: Collection[int]) -> set[int]:
    """Those of `label_ids` that are labels of the user, locked until the transaction ends.

    The lock (FOR NO KEY UPDATE on PostgreSQL; SQLite's write transactions already queue) makes
    a task write that puts a label on a task and the deletion of that label take turns: either
    the deletion sees the new link and takes the label off that task too, or the task write
    sees that the label is gone. Call it inside the transaction that writes the links.
    """
    wanted = sorted({label_id for label_id in label_ids if 1 <= label_id <= MAX_ID})
    if not wanted:
        return set()
    owned = label_list(user=user).filter(pk__in=wanted).select_for_update(no_key=True)
    return set(owned.values_list("pk", flat=True))
