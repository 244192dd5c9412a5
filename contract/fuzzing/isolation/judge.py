"""What the matrix expects of one replayed answer: the check's rules, apart from any request.

Per subject (matrix.Subject.stance), for an operation needing a permission in a shared project:
- holder of the permission: the owner's outcome for the same request (same status class; the
  same status for a refusal). The matrix's one footnote: the owner holds project:leave yet is
  refused with a 409 (hand the project over first); a holder's leave must then succeed.
- member lacking it: 403, type /problems/permission-denied, `permission` naming it.
- non-member (never invited, removed, invited but not accepted): exactly the answer the same
  request gets with a missing id (status, end-to-end headers, body byte for byte), an error.
- anonymous: 401 /problems/not-authenticated.
A bulk write is judged operation by operation, except that a member lacking the permission
gets the call's 403 (judge_bulk).
"""

from __future__ import annotations

from typing import Any

from contract.fuzzing.isolation.matrix import Subject
from contract.fuzzing.isolation.replay import Answer

PERMISSION_DENIED = "/problems/permission-denied"
NOT_AUTHENTICATED = "/problems/not-authenticated"
# (permission, the owner's status): the owner holds it, and is refused all the same.
OWNER_ONLY_REFUSALS = {("project:leave", 409)}


def _who(subject: Subject) -> str:
    return f"The {subject.name} subject ({subject.label or 'no token'})"


def same_outcome(answer_status: int, owner_status: int, permission: str) -> bool:
    if answer_status >= 500:
        return False
    if (permission, owner_status) in OWNER_ONLY_REFUSALS:
        return answer_status < 300
    if answer_status // 100 != owner_status // 100:
        return False
    return answer_status < 400 or answer_status == owner_status


def is_denial(status: int, problem: dict[str, Any], permission: str) -> bool:
    return (
        status == 403
        and problem.get("type") == PERMISSION_DENIED
        and problem.get("permission") == permission
    )


def judge(
    subject: Subject,
    permission: str,
    holders: frozenset[str],
    answer: Answer,
    *,
    owner: Answer | None = None,
    missing: Answer | None = None,
) -> str | None:
    """Why `answer` breaks the matrix, or None. `owner` is the owner's answer to the same
    request (for holders), `missing` the subject's own answer with a missing id (outsiders)."""
    stance = subject.stance(holders)
    who = _who(subject)
    if stance == "anonymous":
        if answer.status == 401 and answer.problem().get("type") == NOT_AUTHENTICATED:
            return None
        return f"{who} got {answer.status}, not 401 not-authenticated:\n  {answer.describe()}"
    if stance == "outsider":
        if missing is None:
            raise ValueError("an outsider's answer is judged against a missing id's")
        if not answer.same_as(missing):
            return (
                f"{who} can tell that the object exists: {permission} with the shared "
                f"project's id and with a missing id answer differently.\n"
                f"Shared project's id:\n  {answer.describe()}\nMissing id:\n  {missing.describe()}"
            )
        if answer.status < 400 or answer.status >= 500:
            return f"{who} got {answer.status} (needs {permission}):\n  {answer.describe()}"
        return None
    if stance == "lacking":
        if is_denial(answer.status, answer.problem(), permission):
            return None
        return (
            f"{who} got {answer.status} where the matrix says 403 permission-denied naming "
            f"{permission}:\n  {answer.describe()}"
        )
    if owner is None:
        raise ValueError("a holder's answer is judged against the owner's")
    if same_outcome(answer.status, owner.status, permission):
        return None
    return (
        f"{who} holds {permission} but got {answer.status} where the owner got "
        f"{owner.status}:\n  {who}: {answer.describe()}\n  owner: {owner.describe()}"
    )


def bulk_results(answer: Answer) -> list[Any] | None:
    """The per-operation results of a bulk write's 200, else None."""
    body = answer.json() if answer.status == 200 else None
    results = body.get("results") if isinstance(body, dict) else None
    return results if isinstance(results, list) else None


def _status(result: Any) -> int:
    status = result.get("status") if isinstance(result, dict) else None
    return status if isinstance(status, int) else 0


def judge_bulk(
    subject: Subject,
    permission: str,
    holders: frozenset[str],
    answer: Answer,
    *,
    owner: Answer | None = None,
    missing: Answer | None = None,
) -> str | None:
    """`judge` for a bulk write: a non-member's results must be, operation by operation, those
    of the same batch naming missing ids, all refusals; a holder's, operation by operation, the
    owner's. A member lacking the permission gets the call's 403 (a result's status is one of a
    closed set, without 403: contract 1.4.0, taskBulk). A batch the server cannot read names no
    project: then the whole answer is the owner's."""
    stance = subject.stance(holders)
    results = bulk_results(answer)
    who = _who(subject)
    if stance == "anonymous" or (stance == "outsider" and results is None):
        return judge(subject, permission, holders, answer, owner=owner, missing=missing)
    if stance == "outsider":
        theirs, nobodys = results, bulk_results(missing) if missing else None
        if theirs != nobodys:
            return judge(subject, permission, holders, answer, owner=owner, missing=missing)
        applied = [result for result in theirs if not 400 <= _status(result) < 500]
        if applied:
            return f"{who}'s bulk write got {applied} (needs {permission}):\n  {answer.describe()}"
        return None
    if stance == "lacking" and is_denial(answer.status, answer.problem(), permission):
        return None
    if owner is None:
        raise ValueError("a member's bulk write is judged beside the owner's")
    owners = bulk_results(owner)
    if stance == "lacking" and (results is not None or owners is not None):
        return judge(subject, permission, holders, answer)
    if results is None or owners is None:
        if answer.status == owner.status and results is None and owners is None:
            return None
        return (
            f"{who}'s bulk write got {answer.status} where the owner's got {owner.status}:\n"
            f"  {who}: {answer.describe()}\n  owner: {owner.describe()}"
        )
    if len(results) != len(owners):
        return f"{who}'s bulk write got {len(results)} results, the owner's {len(owners)}"
    for index, (result, owners_result) in enumerate(zip(results, owners, strict=True)):
        if not same_outcome(_status(result), _status(owners_result), permission):
            return (
                f"{who} holds {permission} but bulk operation {index} got {_status(result)} "
                f"where the owner's got {_status(owners_result)}:\n  {who}: {answer.describe()}"
                f"\n  owner: {owner.describe()}"
            )
    return None


def task_rows(body: Any) -> list[dict[str, Any]]:
    """The tasks of a list page (`results`) or of the changes feed (`tasks`)."""
    if not isinstance(body, dict):
        return []
    rows = [*(body.get("results") or []), *(body.get("tasks") or [])]
    return [row for row in rows if isinstance(row, dict)]


def unreadable_rows(body: Any, readable: set[int]) -> list[tuple[Any, Any]]:
    """(task id, project id) of each row from a project outside `readable`."""
    return [
        (row.get("id"), row.get("project_id"))
        for row in task_rows(body)
        if row.get("project_id") not in readable
    ]


def strangers(body: Any, allowed: set[int], key: str = "results") -> list[Any]:
    """Ids of a list (`results`, or the feed's `deleted`) that are not in `allowed`."""
    if not isinstance(body, dict):
        return []
    items = body.get(key) or []
    ids = [item.get("id") if isinstance(item, dict) else item for item in items]
    return [item_id for item_id in ids if item_id not in allowed]
