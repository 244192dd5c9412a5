import factory

from taskapi.accounts.models import User

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


class TaskFactory(factory.django.DjangoModelFactory):
    """A valid open task; owned by a fresh user unless `owner` is given."""

    class Meta:
        model = "tasks.Task"

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Task {n}")
    # Distinct among siblings, as the services assign them (live siblings may not share one).
    position = factory.Sequence(lambda n: n * 2**16)
