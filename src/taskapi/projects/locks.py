"""The membership lock of a project: task writes share it, membership changes take it alone.

A task write records its change for the project's members (taskapi.sync); a membership change
(join, departure, removal, role) changes that list. Each must see the other's result, so they
take turns: the write holds the lock shared from before it reads the members until it commits,
the change holds it exclusive. Writes among themselves never wait on it.

A PostgreSQL advisory transaction lock, not a row lock on the project: row locks let new shared
lockers in past a waiting exclusive one, so a project written to without a pause starved its
membership changes (a removal waited over ten seconds in tests/stack/test_sharing_convergence.py
under load). Advisory locks queue in order. Key: (LOCK_CLASS, project id modulo 2**31); two
projects whose ids share a key only wait on each other a little more, never less.

SQLite serializes write transactions already: nothing to take.
"""

from django.db import connection

# The first key of every advisory lock this project takes on a project (an arbitrary constant
# that no other lock of the database uses).
LOCK_CLASS = 26_001


def _take(function: str, project_id: int) -> None:
    if connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("the membership lock is taken inside the transaction it guards")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [LOCK_CLASS, project_id % 2**31])


def membership_lock_shared(*, project_id: int) -> None:
    """For a task write in the project, before it reads the members."""
    _take("pg_advisory_xact_lock_shared", project_id)


def membership_lock(*, project_id: int) -> None:
    """For a change of the project's members, before it reads or writes them."""
    _take("pg_advisory_xact_lock", project_id)
