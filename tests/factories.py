import factory

from taskapi.accounts.models import User
from taskapi.tasks.due import due_resolve
from taskapi.webhooks.models import EVENT_TYPES

PASSWORD = "correct-horse-battery-staple"  # what every factory user's password is


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


def inbox_of(user: User) -> object:
    """The user's Inbox: every user gets one when created (taskapi.projects.receivers)."""
    from taskapi.projects.models import Project

    return Project.objects.get(owner=user, inbox=True)


def _project_of(task: object) -> object:
    """Without `project=`: the parent's (a subtask lives in its parent's project), else the
    owner's Inbox (a fresh user's unless `owner` is given)."""
    if task.parent is not None:
        return task.parent.project
    return inbox_of(task.owner if task.owner is not None else UserFactory())


def _next_position(project: object, parent: object) -> int:
    from django.db.models import Max

    from taskapi.tasks.models import Task

    siblings = Task.objects.filter(project=project, parent=parent, deleted_at__isnull=True)
    last = siblings.aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 2**16


class TaskFactory(factory.django.DjangoModelFactory):
    """A valid open task. `owner=user`: created by that user, in their Inbox (or in `project`,
    or in the parent's project); `project=` alone: created by the project's owner; neither: in
    a fresh user's Inbox."""

    class Meta:
        model = "tasks.Task"

    class Params:
        # Not a column any more (tasks live in projects): who creates the task, and whose
        # Inbox it goes to when no project is given.
        owner = None

    project = factory.LazyAttribute(_project_of)
    created_by = factory.LazyAttribute(
        lambda task: task.owner if task.owner is not None else task.project.owner
    )
    title = factory.Sequence(lambda n: f"Task {n}")
    due_date = None
    due_at = None
    time_zone = None
    # Derived as the services derive it (a DB constraint holds it to due_date).
    due_day = factory.LazyAttribute(
        lambda task: due_resolve(
            current=None,
            changes={"due_date": task.due_date, "due_at": task.due_at, "time_zone": task.time_zone},
        )["due_day"]
    )
    # Distinct among siblings, as the services assign them (live siblings may not share one).
    parent = None
    # Last among its siblings (same project, same parent), as the services place a new task
    # (live siblings may not share a position, and tests mix factory tasks with tasks the
    # services create).
    position = factory.LazyAttribute(lambda task: _next_position(task.project, task.parent))


class LabelFactory(factory.django.DjangoModelFactory):
    """A label without a colour; owned by a fresh user unless `owner` is given."""

    class Meta:
        model = "labels.Label"

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"label {n}")
    name_key = factory.LazyAttribute(lambda label: label.name.casefold())


class WebhookFactory(factory.django.DjangoModelFactory):
    """An active webhook for every event type, to a loopback URL that nothing serves; owned by
    a fresh user unless `owner` is given."""

    class Meta:
        model = "webhooks.Endpoint"

    owner = factory.SubFactory(UserFactory)
    url = "http://127.0.0.1:9/unused"
    event_types = factory.LazyFunction(lambda: list(EVENT_TYPES))
