"""Rules of task writes, checked against the services directly."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from taskapi.core.errors import PreconditionFailed
from taskapi.tasks.errors import IdempotencyKeyReused, TaskNotFound
from taskapi.tasks.idempotency import (
    idempotency_records_purge,
    request_fingerprint,
    task_create_idempotent,
)
from taskapi.tasks.models import IdempotencyRecord, Task
from taskapi.tasks.selectors import task_get
from taskapi.tasks.services import task_create, task_trash, task_update
from tests.factories import TaskFactory, inbox_of

pytestmark = pytest.mark.django_db


def _render(task):
    return {"id": task.pk, "title": task.title}, {"Location": f"/tasks/{task.pk}/"}


def test_created_task_takes_the_defaults(user):
    task = task_create(user=user, data={"title": "write"})

    task.refresh_from_db()
    assert (task.description, task.completed, task.priority, task.due_date) == (
        "",
        False,
        "medium",
        None,
    )
    assert task.completed_at is None
    assert task.version == 1
    assert (task.created_by_id, task.project_id, task.assignee_id) == (
        user.id,
        inbox_of(user).pk,
        None,
    )


def test_task_created_completed_gets_completed_at(user):
    task = task_create(user=user, data={"title": "done already", "completed": True})

    assert task.completed_at is not None


def test_completing_a_task_stamps_completed_at(user):
    task = TaskFactory(owner=user)

    task = task_update(user=user, task=task, changes={"completed": True})

    task.refresh_from_db()
    assert task.completed
    assert task.completed_at is not None


def test_completed_at_is_kept_when_the_task_stays_completed(user):
    task = task_update(user=user, task=TaskFactory(owner=user), changes={"completed": True})
    first = task.completed_at

    task = task_update(user=user, task=task, changes={"completed": True, "title": "again"})

    task.refresh_from_db()
    assert task.completed_at == first


def test_reopening_a_task_clears_completed_at(user):
    task = task_update(user=user, task=TaskFactory(owner=user), changes={"completed": True})

    task = task_update(user=user, task=task, changes={"completed": False})

    task.refresh_from_db()
    assert task.completed_at is None


def test_every_write_bumps_the_version_and_updated_at(user):
    task = TaskFactory(owner=user)
    before = task.updated_at

    task = task_update(user=user, task=task, changes={"title": "new"})

    task.refresh_from_db()
    assert task.version == 2
    assert task.updated_at > before


def test_an_empty_change_writes_nothing(user):
    task = TaskFactory(owner=user)

    task_update(user=user, task=task, changes={})

    task.refresh_from_db()
    assert task.version == 1


def test_update_with_a_stale_version_is_refused_and_writes_nothing(user):
    task = TaskFactory(owner=user, title="before")

    with pytest.raises(PreconditionFailed):
        task_update(user=user, task=task, changes={"title": "after"}, expected_versions={7})

    task.refresh_from_db()
    assert (task.title, task.version) == ("before", 1)


def test_update_from_a_stale_read_with_if_match_loses_the_race(user):
    task = TaskFactory(owner=user)
    stale = task_get(user=user, task_id=task.pk)
    task_update(user=user, task=task, changes={"title": "first writer"})

    with pytest.raises(PreconditionFailed):
        task_update(user=user, task=stale, changes={"title": "second"}, expected_versions={1})

    task.refresh_from_db()
    assert task.title == "first writer"


def test_update_from_a_stale_read_without_if_match_keeps_the_other_change(user):
    task = TaskFactory(owner=user)
    stale = task_get(user=user, task_id=task.pk)
    task_update(user=user, task=task, changes={"priority": "high"})

    task_update(user=user, task=stale, changes={"title": "renamed"})

    task.refresh_from_db()
    assert (task.title, task.priority, task.version) == ("renamed", "high", 3)


def test_completing_from_a_stale_read_keeps_the_first_completed_at(user):
    task = TaskFactory(owner=user)
    stale = task_get(user=user, task_id=task.pk)
    first = task_update(user=user, task=task, changes={"completed": True}).completed_at

    task_update(user=user, task=stale, changes={"completed": True})

    task.refresh_from_db()
    assert task.completed_at == first


def test_update_of_a_task_deleted_meanwhile_is_not_found(user):
    task = TaskFactory(owner=user)
    stale = task_get(user=user, task_id=task.pk)
    task.delete()

    with pytest.raises(TaskNotFound):
        task_update(user=user, task=stale, changes={"title": "ghost"})


def test_delete_with_a_stale_version_is_refused(user):
    task = TaskFactory(owner=user)

    with pytest.raises(PreconditionFailed):
        task_trash(user=user, task_id=task.pk, expected_versions={2})

    assert Task.objects.get(pk=task.pk).deleted_at is None


def test_delete_of_another_users_task_is_not_found_and_deletes_nothing(user):
    task = TaskFactory()

    with pytest.raises(TaskNotFound):
        task_trash(user=user, task_id=task.pk)

    assert Task.objects.get(pk=task.pk).deleted_at is None


def test_deleting_the_owner_deletes_their_tasks(user):
    TaskFactory.create_batch(3, owner=user)

    user.delete()

    assert not Task.objects.exists()


def test_fingerprint_ignores_key_order_and_spacing():
    assert request_fingerprint({"a": 1, "b": [1, 2]}) == request_fingerprint({"b": [1, 2], "a": 1})
    assert request_fingerprint({"a": 1}) != request_fingerprint({"a": 2})


def test_repeated_idempotent_create_replays_and_creates_nothing(user):
    args = {"user": user, "key": "k1", "fingerprint": "f", "data": {"title": "x"}}
    first = task_create_idempotent(**args, render=_render)

    again = task_create_idempotent(**args, render=_render)

    assert again.replayed
    assert (again.status, again.body, again.headers) == (first.status, first.body, first.headers)
    assert Task.objects.count() == 1


def test_idempotency_key_with_another_body_is_refused(user):
    task_create_idempotent(
        user=user, key="k", fingerprint="f1", data={"title": "x"}, render=_render
    )

    with pytest.raises(IdempotencyKeyReused):
        task_create_idempotent(
            user=user, key="k", fingerprint="f2", data={"title": "y"}, render=_render
        )

    assert Task.objects.count() == 1


def test_idempotency_keys_belong_to_one_user(user, other_user):
    task_create_idempotent(user=user, key="k", fingerprint="f", data={"title": "x"}, render=_render)

    theirs = task_create_idempotent(
        user=other_user, key="k", fingerprint="f", data={"title": "x"}, render=_render
    )

    assert not theirs.replayed
    assert Task.objects.filter(created_by=other_user).count() == 1


def test_idempotency_key_older_than_a_day_is_used_afresh(user):
    args = {"user": user, "key": "k", "fingerprint": "f", "data": {"title": "x"}}
    task_create_idempotent(**args, render=_render)
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))

    again = task_create_idempotent(**args, render=_render)

    assert not again.replayed
    assert Task.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 1


def test_idempotency_key_of_23_hours_ago_still_replays(user):
    args = {"user": user, "key": "k", "fingerprint": "f", "data": {"title": "x"}}
    task_create_idempotent(**args, render=_render)
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=23))

    assert task_create_idempotent(**args, render=_render).replayed


def test_purge_deletes_only_records_older_than_a_day(user):
    for key in ("old", "new"):
        task_create_idempotent(
            user=user, key=key, fingerprint="f", data={"title": key}, render=_render
        )
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=24, seconds=1)
    )

    assert idempotency_records_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_purge_command_reports_what_it_deleted(user):
    task_create_idempotent(user=user, key="k", fingerprint="f", data={"title": "x"}, render=_render)
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=2))
    out = StringIO()

    call_command("purge_idempotency_keys", stdout=out)

    assert "Deleted 1 " in out.getvalue()
    assert not IdempotencyRecord.objects.exists()


def test_due_date_is_stored_as_a_date(user):
    task = task_create(user=user, data={"title": "x", "due_date": date(2026, 12, 1)})

    task.refresh_from_db()
    assert task.due_date == date(2026, 12, 1)
