"""The events of labels (taskapi.core.events), for listeners such as webhooks: recorded by the
services inside their transaction, rendered as GET /labels/{id}/ shows the label, only if a
listener wants the type."""

from taskapi.core.events import events_record, events_wanted
from taskapi.labels.models import Label
from taskapi.labels.serializers import LabelOut

CREATED = "label.created"
UPDATED = "label.updated"
DELETED = "label.deleted"


def label_event_record(*, type: str, label: Label) -> None:
    for wanted in events_wanted(owner_ids=[label.owner_id]):
        if type in wanted.types:
            events_record(wanted=wanted, type=type, objects=[(label.pk, LabelOut(label).data)])
