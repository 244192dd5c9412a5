"""The queue: django-tasks (Django's tasks API) on its database backend, queue "webhooks".

A queue row is one attempt of one delivery. It is inserted in the transaction that creates the
delivery (or records the previous attempt), so it commits exactly when they do.
"""

from datetime import datetime

from django_tasks import task

QUEUE = "webhooks"


@task(queue_name=QUEUE)
def delivery_attempt(delivery_id: int, attempt: int) -> str:
    from taskapi.webhooks.delivery import attempt_run

    return attempt_run(delivery_id=delivery_id, attempt=attempt)


def attempt_enqueue(*, delivery_id: int, attempt: int, run_after: datetime | None = None) -> None:
    queued = delivery_attempt if run_after is None else delivery_attempt.using(run_after=run_after)
    queued.enqueue(delivery_id=delivery_id, attempt=attempt)
