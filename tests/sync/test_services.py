"""The change log: numbering, one record per object, and the purge of deletion records."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from taskapi.sync.models import Change, ChangeCounter
from taskapi.sync.selectors import change_page
from taskapi.sync.services import change_record, deletion_records_purge
from taskapi.sync.tokens import START, FeedPosition
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _record(user, ids, *, deleted=False) -> int:
    """The number the transaction took for `user`, read back from its records."""
    with transaction.atomic():
        change_record(reader_ids=[user.id], kind="task", object_ids=ids, deleted=deleted)
    seqs = set(
        Change.objects.filter(owner=user, kind="task", object_id__in=ids).values_list(
            "seq", flat=True
        )
    )
    [seq] = seqs  # one transaction, one number for all its objects
    return seq


def test_each_transaction_takes_the_users_next_number(user):
    assert [_record(user, [1]), _record(user, [2]), _record(user, [1])] == [1, 2, 3]
    assert ChangeCounter.objects.get(owner=user).seq == 3


def test_numbers_are_per_user(user):
    stranger = UserFactory()

    assert (_record(user, [1]), _record(stranger, [2]), _record(user, [3])) == (1, 1, 2)


def test_each_reader_gets_the_objects_under_their_own_next_number(user):
    other = UserFactory()
    _record(user, [1])

    with transaction.atomic():
        change_record(reader_ids=[other.id, user.id], kind="task", object_ids=[2, 3])

    records = set(Change.objects.values_list("owner_id", "object_id", "seq"))
    assert records == {
        (user.id, 1, 1),
        (user.id, 2, 2),
        (user.id, 3, 2),
        (other.id, 2, 1),
        (other.id, 3, 1),
    }


def test_an_object_keeps_only_its_latest_change(user):
    _record(user, [7])
    _record(user, [7], deleted=True)

    [change] = Change.objects.filter(object_id=7)
    assert (change.seq, change.deleted) == (2, True)


def test_objects_changed_in_one_transaction_share_its_number(user):
    seq = _record(user, [4, 5, 6])

    assert set(Change.objects.values_list("object_id", "seq")) == {(4, seq), (5, seq), (6, seq)}


def test_a_page_resumes_inside_a_shared_number(user):
    _record(user, [4, 5, 6])
    first = change_page(owner_id=user.id, kind="task", after=START, limit=2)

    second = change_page(owner_id=user.id, kind="task", after=first.position, limit=2)

    assert (first.changed_ids, first.has_more) == ([4, 5], True)
    assert (second.changed_ids, second.has_more) == ([6], False)
    assert second.position == FeedPosition(seq=1, object_id=6)


@pytest.mark.django_db(transaction=True)
def test_recording_in_autocommit_is_refused_because_the_lock_would_not_last():
    user = UserFactory()

    with pytest.raises(RuntimeError, match="inside the transaction"):
        change_record(reader_ids=[user.id], kind="task", object_ids=[1])

    assert not Change.objects.exists()


def test_the_purge_drops_only_deletion_records_older_than_the_max_age_and_a_day(user):
    long_ago = timezone.now() - timedelta(days=32)
    _record(user, [1], deleted=True)
    _record(user, [2], deleted=True)
    _record(user, [3])
    Change.objects.filter(object_id__in=[1, 3]).update(changed_at=long_ago)
    Change.objects.filter(object_id=2).update(changed_at=timezone.now() - timedelta(days=30))

    purged = deletion_records_purge(batch_size=1)

    assert purged == 1
    assert set(Change.objects.values_list("object_id", flat=True)) == {2, 3}
