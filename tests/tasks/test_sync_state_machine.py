"""The sync guarantee as a hypothesis state machine, in process: any interleaving of writes
(create, update, complete, delete, restore, erase, the purge) with partial syncs of a mirror
ends, after one final sync, with the mirror equal to the server's tasks.

A second user writes too; none of their ids may ever reach the mirror. Each example uses fresh
users: the examples share the test's transaction, so earlier examples' rows stay around, which
also checks that they never leak in.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from rest_framework.test import APIClient

from taskapi.projects.models import Membership
from taskapi.tasks.models import Task
from taskapi.tasks.services import trash_purge
from tests.factories import UserFactory
from tests.support.sync_mirror import Mirror

pytestmark = pytest.mark.django_db

TITLES = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=20
).filter(str.strip)


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


class SyncMachine(RuleBasedStateMachine):
    tasks = Bundle("tasks")

    def __init__(self) -> None:
        super().__init__()
        self.user = UserFactory()
        self.api = _client(self.user)
        self.stranger = _client(UserFactory())
        self.stranger_ids: set[int] = set()
        self.mirror = Mirror()

    @initialize(target=tasks, titles=st.lists(TITLES, min_size=1, max_size=4))
    def a_synced_copy_of_a_few_tasks(self, titles: list[str]):
        """Start from a mirror that holds tasks, so that every later write is one it must see."""
        ids = [self.create(title=title, completed=False) for title in titles]
        while self._apply_one_page(page_size=2):
            pass
        return multiple(*ids)

    # --- writes -----------------------------------------------------------------------------

    @rule(target=tasks, title=TITLES, completed=st.booleans())
    def create(self, title: str, completed: bool) -> int:
        response = self.api.post("/tasks/", {"title": title, "completed": completed}, format="json")
        assert response.status_code == 201
        return response.json()["id"]

    @rule(task_id=tasks, title=TITLES)
    def rename(self, task_id: int, title: str) -> None:
        response = self.api.patch(f"/tasks/{task_id}/", {"title": title}, format="json")
        assert response.status_code in (200, 404)  # 404: deleted or erased meanwhile

    @rule(task_id=tasks, completed=st.booleans())
    def complete(self, task_id: int, completed: bool) -> None:
        response = self.api.patch(f"/tasks/{task_id}/", {"completed": completed}, format="json")
        assert response.status_code in (200, 404)

    @rule(task_id=tasks)
    def delete(self, task_id: int) -> None:
        assert self.api.delete(f"/tasks/{task_id}/").status_code in (204, 404)

    @rule(task_id=tasks)
    def restore(self, task_id: int) -> None:
        assert self.api.post(f"/tasks/{task_id}/restore/").status_code in (200, 404)

    @rule(task_id=consumes(tasks))
    def erase(self, task_id: int) -> None:
        assert self.api.delete(f"/tasks/trash/{task_id}/").status_code in (204, 404)

    @rule()
    def purge_the_trash(self) -> None:
        # As if the retention had passed for everything in this user's trash. By the user's
        # project ids, not a join to the memberships in the UPDATE: inside the test's one long
        # transaction PostgreSQL planned that join badly and the UPDATE ran past the 5 s
        # statement timeout (make test, PostgreSQL pass).
        projects = list(
            Membership.objects.filter(user=self.user).values_list("project_id", flat=True)
        )
        Task.objects.filter(project_id__in=projects, deleted_at__isnull=False).update(
            deleted_at=timezone.now() - timedelta(days=365)
        )
        trash_purge()

    @rule(title=TITLES)
    def stranger_writes(self, title: str) -> None:
        created = self.stranger.post("/tasks/", {"title": title}, format="json").json()
        self.stranger_ids.add(created["id"])
        self.stranger.patch(f"/tasks/{created['id']}/", {"completed": True}, format="json")
        self.stranger.delete(f"/tasks/{created['id']}/")

    # --- the client -------------------------------------------------------------------------

    def _apply_one_page(self, page_size: int) -> bool:
        params = {"page_size": page_size}
        if self.mirror.token is not None:
            params["sync_token"] = self.mirror.token
        response = self.api.get("/tasks/changes/", params)
        assert response.status_code == 200, response.content
        page = response.json()
        assert len(page["tasks"]) + len(page["deleted"]) <= page_size
        self.mirror.apply(page)  # also refuses an id that is both changed and deleted
        return page["has_more"]

    @rule(page_size=st.integers(min_value=1, max_value=5))
    def sync_one_page(self, page_size: int) -> None:
        self._apply_one_page(page_size)

    @precondition(lambda self: self.mirror.token is not None)
    @rule()
    def start_over(self) -> None:
        """A client that lost its copy syncs from scratch."""
        self.mirror = Mirror()

    @invariant()
    def no_stranger_task_reaches_the_mirror(self) -> None:
        assert not self.stranger_ids & set(self.mirror.tasks)

    def teardown(self) -> None:
        while self._apply_one_page(page_size=3):
            pass
        server, url = {}, "/tasks/?page_size=100"
        while url:
            page = self.api.get(url).json()
            server.update({task["id"]: task for task in page["results"]})
            url = page["next"]
        assert self.mirror.tasks == server


# A bound on liveness: 27 s alone on PostgreSQL, 49 s in `make test` beside the contract fuzzing,
# and once past 300 s there, in the PostgreSQL pass on 2 loaded cores (the same examples replayed
# alone took 49 s).
@pytest.mark.timeout(900)
def test_a_mirror_fed_by_the_changes_feed_converges_to_the_server():
    run_state_machine_as_test(
        SyncMachine,
        settings=settings(
            max_examples=50,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
