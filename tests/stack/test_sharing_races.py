"""A task write and a membership change of one project take turns (projects/selectors.py,
readers_locked), shown on PostgreSQL with each race held open by hand.

A second connection plays the membership change's transaction (the project's membership lock and
row, as projects.services._lock takes them, then the membership row) and commits while the API's
PATCH waits for the lock. The PATCH must
then see the change: a joiner's feed carries the PATCH, and a removed member cannot be assigned.
Both failed when the lock and the members were read in one statement, whose snapshot predates
the wait (found by tests/stack/test_sharing_convergence.py, seeds 3514084193 and 1414235337).
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from taskapi.projects.locks import LOCK_CLASS
from tests.stack.conftest import create_account
from tests.support.sync_mirror import Mirror, all_pages

WAIT = 1.0  # long enough for the PATCH to reach the lock it waits on


def _database(stack) -> psycopg.Connection:
    return psycopg.connect(stack.env["DATABASE_URL"].replace("postgres://", "postgresql://"))


def _lock_as_a_membership_change(connection: psycopg.Connection, project_id: int) -> None:
    connection.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, project_id % 2**31])
    connection.execute("SELECT id FROM projects_project WHERE id = %s FOR UPDATE", [project_id])


def _user_id(http, account) -> int:
    return http.get("/auth/me/", headers=account.auth).json()["id"]


def _patch_in_background(http, url: str, body: dict, auth: dict) -> tuple[threading.Thread, dict]:
    answer: dict = {}
    writer = threading.Thread(
        target=lambda: answer.update(response=http.patch(url, json=body, headers=auth))
    )
    writer.start()
    return writer, answer


@pytest.mark.timeout(60)
def test_a_patch_waiting_on_a_join_is_recorded_for_the_joiner(stack):
    http = stack.http
    owner, joiner = create_account(http), create_account(http)
    joiner_id = _user_id(http, joiner)
    project = http.post("/projects/", json={"name": "P"}, headers=owner.auth).json()["id"]
    task = http.post("/tasks/", json={"title": "old", "project_id": project}, headers=owner.auth)
    task_id = task.json()["id"]
    join, row = _database(stack), _database(stack)
    try:
        # The join, as invitation_accept and tasks.membership do it.
        _lock_as_a_membership_change(join, project)
        join.execute(
            "INSERT INTO projects_membership (project_id, user_id, role, joined_at) "
            "VALUES (%s, %s, 'viewer', now())",
            [project, joiner_id],
        )
        seq = join.execute(
            "INSERT INTO sync_changecounter (owner_id, seq) VALUES (%s, 1) ON CONFLICT (owner_id) "
            "DO UPDATE SET seq = sync_changecounter.seq + 1 RETURNING seq",
            [joiner_id],
        ).fetchone()[0]
        join.execute(
            "INSERT INTO sync_change (owner_id, kind, object_id, seq, deleted, changed_at) "
            "VALUES (%s, 'task', %s, %s, false, now())",
            [joiner_id, task_id, seq],
        )
        # The task's row, held: the PATCH stops there once past the project's lock.
        row.execute("SELECT id FROM tasks_task WHERE id = %s FOR UPDATE", [task_id])
        writer, answer = _patch_in_background(
            stack.apps[0].http, f"/tasks/{task_id}/", {"title": "new"}, owner.auth
        )
        time.sleep(WAIT)  # the PATCH waits for the project's lock
        join.commit()
        time.sleep(WAIT)  # the PATCH has its readers now, and waits for the row
        mirror = Mirror()
        mirror.sync(stack.apps[1].http, joiner.auth)  # between the join and the PATCH
        assert {i: t["title"] for i, t in mirror.tasks.items()} == {task_id: "old"}
        row.commit()
        writer.join()
    finally:
        join.close()
        row.close()
    assert answer["response"].status_code == 200
    mirror.sync(stack.apps[1].http, joiner.auth)
    truth = {t["id"]: t["title"] for t in all_pages(stack.apps[0].http, "/tasks/", joiner.auth)}
    assert truth == {task_id: "new"}
    assert {i: t["title"] for i, t in mirror.tasks.items()} == truth


@pytest.mark.timeout(60)
def test_a_patch_waiting_on_a_removal_cannot_assign_the_removed_member(stack):
    http = stack.http
    owner, member = create_account(http), create_account(http)
    member_id = _user_id(http, member)
    project = http.post("/projects/", json={"name": "P"}, headers=owner.auth).json()["id"]
    invited = http.post(
        f"/projects/{project}/invitations/",
        json={"email": member.email, "role": "editor"},
        headers=owner.auth,
    ).json()
    assert http.post(f"/invitations/{invited['id']}/accept/", headers=member.auth).ok
    task = http.post("/tasks/", json={"title": "t", "project_id": project}, headers=owner.auth)
    task_id = task.json()["id"]
    removal = _database(stack)
    try:
        # The removal, as member_remove does it (nothing is assigned to unassign yet).
        _lock_as_a_membership_change(removal, project)
        removal.execute(
            "DELETE FROM projects_membership WHERE project_id = %s AND user_id = %s",
            [project, member_id],
        )
        writer, answer = _patch_in_background(
            stack.apps[0].http, f"/tasks/{task_id}/", {"assignee_id": member_id}, owner.auth
        )
        time.sleep(WAIT)  # the PATCH waits for the project's lock
        removal.commit()
        writer.join()
    finally:
        removal.close()
    response = answer["response"]
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == "assignee_id"
    assert http.get(f"/tasks/{task_id}/", headers=owner.auth).json()["assignee_id"] is None
