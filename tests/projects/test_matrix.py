"""The authorization matrix, over HTTP: every operation of openapi.yaml whose `x-permission` is
one of the matrix's permissions, sent by every subject (tests/projects/shared_project.py) on a
real shared project, answers exactly what the contract's role x permission table says:

- a role that holds the permission: the operation's success (the one 2xx the contract documents);
- a member whose role lacks it: 403 `/problems/permission-denied` naming the permission;
- a non-member (never invited, invited but not accepted, removed): the answer of an id that does
  not exist, the same status, body and headers (a 404; a 400 on the field for an id in a body);
- no token: 401.

After every refusal the owner reads the project back unchanged. The operations and the table
are read from openapi.yaml when the tests are collected: an operation added with a matrix
permission gets its cases, which fail until RECIPES says how to send it.

Ids inside bodies and queries (parent_id, after_id, project_id, assignee_id, the project_id and
parent_id filters) and each operation of a bulk write follow the same rule, in their own tests.
SECURITY.md names a test for every cell (test_security_md_binds_every_cell_to_its_test).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.projects.shared_project import (
    ROLES,
    SUBJECTS,
    Answer,
    Ids,
    SharedProject,
    shared_project,
)

REPO = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
# x-permission values outside the matrix: no project is involved.
NOT_IN_MATRIX = frozenset({"public", "authenticated"})


# --- the contract: its operations and its published table --------------------------------------


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    permission: str
    success: int | None  # the one 2xx the contract documents (None: not exactly one)

    def assert_sent_by(self, request: Request) -> None:
        """The request is this operation's: its method, and a path its template matches."""
        template = re.sub(r"\\{[^}]+\\}", "[0-9]+", re.escape(self.path))
        path = request.path.split("?", 1)[0]
        assert (request.method, bool(re.fullmatch(template, path))) == (self.method, True), (
            f"{request.method.upper()} {request.path} is not {self.operation_id}: "
            f"{self.method.upper()} {self.path}"
        )


def _contract() -> dict[str, Any]:
    return yaml.load((REPO / "openapi.yaml").read_text(), Loader=yaml.CSafeLoader)


def _operations(contract: dict[str, Any]) -> dict[str, Operation]:
    operations = {}
    for path, item in contract["paths"].items():
        for method, spec in item.items():
            if method not in HTTP_METHODS:
                continue
            successes = [int(code) for code in spec["responses"] if str(code).startswith("2")]
            operations[spec["operationId"]] = Operation(
                operation_id=spec["operationId"],
                method=method,
                path=path,
                permission=spec.get("x-permission", ""),
                success=successes[0] if len(successes) == 1 else None,
            )
    return operations


def published_matrix(markdown: str) -> dict[str, frozenset[str]]:
    """permission -> the roles holding it, from the first markdown table whose header starts
    `| Permission | owner | editor | viewer`."""
    lines = [line.strip() for line in markdown.splitlines()]
    for start, line in enumerate(lines):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("|") and cells[:1] == ["Permission"] and "owner" in cells:
            roles = {index: cell for index, cell in enumerate(cells) if cell in ROLES.values()}
            matrix = {}
            for row in lines[start + 2 :]:
                if not row.startswith("|"):
                    break
                values = [cell.strip() for cell in row.strip("|").split("|")]
                permission = values[0].strip("`")
                matrix[permission] = frozenset(
                    role for index, role in roles.items() if values[index].lower() == "yes"
                )
            return matrix
    raise AssertionError("no `| Permission | owner | editor | viewer |` table found")


CONTRACT = _contract()
OPERATIONS = _operations(CONTRACT)
MATRIX = published_matrix(CONTRACT["info"]["description"])
MATRIX_OPERATIONS = {
    operation_id: operation
    for operation_id, operation in OPERATIONS.items()
    if operation.permission not in NOT_IN_MATRIX
}


# --- requests and what the answers must be ------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: Any = None


def get(path: str) -> Request:
    return Request("get", path)


def post(path: str, body: Any = None) -> Request:
    return Request("post", path, body)


def put(path: str, body: Any) -> Request:
    return Request("put", path, body)


def patch(path: str, body: Any) -> Request:
    return Request("patch", path, body)


def delete(path: str) -> Request:
    return Request("delete", path)


def send(shared: SharedProject, subject: str, request: Request) -> Any:
    call = getattr(shared.client(subject), request.method)
    if request.body is None:
        return call(request.path)
    return call(request.path, request.body, format="json")


def ask(shared: SharedProject, subject: str, request: Request) -> Answer:
    return Answer.of(send(shared, subject, request))


def holds(subject: str, permission: str) -> bool:
    return ROLES.get(subject) in MATRIX.get(permission, frozenset())


def assert_success(answer: Answer, status: int | None) -> None:
    assert status is not None, "the contract documents no single 2xx for this operation"
    assert answer.status == status, answer


def assert_denied(answer: Answer, permission: str) -> None:
    assert answer.status == 403, answer
    assert answer.headers["content-type"] == PROBLEM
    assert answer.body["type"] == "/problems/permission-denied", answer.body
    assert answer.body["status"] == 403
    assert answer.body["permission"] == permission, answer.body


def assert_hidden(answer: Answer, missing: Answer, *, status: int, field: str | None) -> None:
    """The non-member's answer is the missing id's, status, body and headers alike."""
    assert answer == missing, (
        f"a non-member's answer differs from a missing id's:\n{answer}\n{missing}"
    )
    assert answer.status == status, answer
    if status == 404:
        assert answer.body["type"] == "/problems/not-found", answer.body
    elif status == 400:
        assert answer.body["type"] == "/problems/validation-error", answer.body
        assert [(e["field"], e["code"]) for e in answer.body["errors"]] == [
            (field, "does_not_exist")
        ], answer.body


def assert_not_authenticated(answer: Answer) -> None:
    assert answer.status == 401, answer
    assert answer.body["type"] == "/problems/not-authenticated", answer.body


# --- how to send each operation -----------------------------------------------------------------


@dataclass(frozen=True)
class Rows:
    """A list in which the project's objects appear exactly for the subjects holding the
    operation's permission (the rows are filtered to those projects)."""

    request: Callable[[Ids], Request]
    key: str  # where the objects are listed
    ids: Callable[[SharedProject], list[int]]


@dataclass(frozen=True)
class Recipe:
    request: Callable[[Ids], Request]
    # The ids that, replaced by ids nothing has, give the request a non-member's answer must
    # equal. None: the operation names no object, and a non-member's rows are filtered instead.
    names: tuple[str, ...] | None
    # A non-member's answer: 404, or 400 on this field for an id in the body.
    field: str | None = None
    rows: Rows | None = None
    # The owner holds project:leave, but must hand the project over first (the contract's 409).
    owner_answer: tuple[int, str] | None = None


@dataclass(frozen=True)
class BulkStep:
    """One operation of a bulk write: it answers as the single-task operation it stands for.
    `stands_for` None: a create in the caller's own Inbox, which anyone logged in may do."""

    stands_for: str | None
    item: Callable[[Ids], dict[str, Any]]
    names: tuple[str, ...] = ()
    field: str | None = None


@dataclass(frozen=True)
class BulkRecipe:
    steps: tuple[BulkStep, ...]


def _own_create(ids: Ids) -> dict[str, Any]:
    return {"op": "create", "body": {"title": "Bulk, in my Inbox"}}


BULK_STEPS = (
    BulkStep(None, _own_create),
    BulkStep(
        "taskCreate",
        lambda i: {"op": "create", "body": {"title": "Bulk", "project_id": i.project}},
        ("project",),
        "project_id",
    ),
    BulkStep(
        "taskUpdate", lambda i: {"op": "update", "id": i.task, "body": {"title": "Bulk"}}, ("task",)
    ),
    BulkStep("taskDelete", lambda i: {"op": "delete", "id": i.sibling}, ("sibling",)),
    BulkStep(None, _own_create),
)


def _live(shared: SharedProject) -> list[int]:
    return shared.live_task_ids


def _trashed(shared: SharedProject) -> list[int]:
    return [shared.ids.trashed]


RECIPES: dict[str, Recipe | BulkRecipe] = {
    # Tasks.
    "taskList": Recipe(
        lambda i: get(f"/tasks/?project_id={i.project}"),
        ("project",),
        rows=Rows(lambda i: get("/tasks/?page_size=100"), "results", _live),
    ),
    "taskCreate": Recipe(
        lambda i: post("/tasks/", {"title": "New", "project_id": i.project}),
        ("project",),
        field="project_id",
    ),
    "taskBulk": BulkRecipe(BULK_STEPS),
    "taskGet": Recipe(lambda i: get(f"/tasks/{i.task}/"), ("task",)),
    "taskReplace": Recipe(lambda i: put(f"/tasks/{i.task}/", {"title": "Replaced"}), ("task",)),
    "taskUpdate": Recipe(lambda i: patch(f"/tasks/{i.task}/", {"title": "Updated"}), ("task",)),
    "taskDelete": Recipe(lambda i: delete(f"/tasks/{i.task}/"), ("task",)),
    "taskChanges": Recipe(
        lambda i: get("/tasks/changes/?page_size=500"),
        None,
        rows=Rows(lambda i: get("/tasks/changes/?page_size=500"), "tasks", _live),
    ),
    "taskTrashList": Recipe(
        lambda i: get(f"/tasks/trash/?project_id={i.project}"),
        ("project",),
        rows=Rows(lambda i: get("/tasks/trash/?page_size=100"), "results", _trashed),
    ),
    "taskErase": Recipe(lambda i: delete(f"/tasks/trash/{i.trashed}/"), ("trashed",)),
    "taskRestore": Recipe(lambda i: post(f"/tasks/{i.trashed}/restore/"), ("trashed",)),
    "taskMove": Recipe(
        lambda i: post(f"/tasks/{i.sibling}/move/", {"after_id": None}), ("sibling",)
    ),
    # Projects.
    "projectGet": Recipe(lambda i: get(f"/projects/{i.project}/"), ("project",)),
    "projectUpdate": Recipe(
        lambda i: patch(f"/projects/{i.project}/", {"name": "Renamed"}), ("project",)
    ),
    "projectDelete": Recipe(lambda i: delete(f"/projects/{i.project}/"), ("project",)),
    "projectLeave": Recipe(
        lambda i: post(f"/projects/{i.project}/leave/"),
        ("project",),
        owner_answer=(409, "/problems/conflict"),
    ),
    "projectTransfer": Recipe(
        lambda i: post(f"/projects/{i.project}/transfer/", {"user_id": i.member}), ("project",)
    ),
    # Members and invitations.
    "memberList": Recipe(lambda i: get(f"/projects/{i.project}/members/"), ("project",)),
    "memberUpdate": Recipe(
        lambda i: patch(f"/projects/{i.project}/members/{i.member}/", {"role": "viewer"}),
        ("project",),
    ),
    "memberRemove": Recipe(
        lambda i: delete(f"/projects/{i.project}/members/{i.member}/"), ("project",)
    ),
    "invitationList": Recipe(lambda i: get(f"/projects/{i.project}/invitations/"), ("project",)),
    "invitationCreate": Recipe(
        lambda i: post(
            f"/projects/{i.project}/invitations/",
            {"email": "newcomer@example.com", "role": "editor"},
        ),
        ("project",),
    ),
    "invitationRevoke": Recipe(
        lambda i: delete(f"/projects/{i.project}/invitations/{i.invitation}/"), ("project",)
    ),
}


def _check_recipe(
    shared: SharedProject, subject: str, operation: Operation, recipe: Recipe
) -> None:
    answer = ask(shared, subject, recipe.request(shared.ids))
    if subject == "anonymous":
        assert_not_authenticated(answer)
        return
    if subject == "owner" and recipe.owner_answer is not None:
        status, problem_type = recipe.owner_answer
        assert (answer.status, answer.body["type"]) == (status, problem_type), answer
    elif holds(subject, operation.permission):
        assert_success(answer, operation.success)
    elif subject in ROLES:
        assert_denied(answer, operation.permission)
    elif recipe.names is None:
        assert_success(answer, operation.success)  # its rows are filtered: see below
    else:
        missing = ask(shared, subject, recipe.request(shared.ids.missing(*recipe.names)))
        assert_hidden(answer, missing, status=400 if recipe.field else 404, field=recipe.field)
    if recipe.rows is not None:
        _check_rows(shared, subject, operation, recipe.rows)


def _check_rows(shared: SharedProject, subject: str, operation: Operation, rows: Rows) -> None:
    response = send(shared, subject, rows.request(shared.ids))
    assert response.status_code == 200, response.content
    body = response.json()
    listed = {row["id"] for row in body[rows.key]}
    ours = set(rows.ids(shared))
    if holds(subject, operation.permission):
        assert ours <= listed, (ours, listed)
    else:
        assert not ours & listed, (ours, listed)
    if subject in ("nonmember", "invited"):
        # Never a member: no trace of the project's tasks anywhere in the answer.
        everything = {shared.ids.trashed, *shared.live_task_ids}
        assert not everything & set(body.get("deleted", [])), body


def _check_bulk(
    shared: SharedProject, subject: str, operation: Operation, recipe: BulkRecipe
) -> None:
    """Each operation of the batch is authorized on its own, before any runs (the contract's
    taskBulk): one naming the project where the caller's role lacks the permission makes the
    whole call the 403 naming it, and nothing runs, the caller's own creates neither; one
    naming what the caller cannot see is its own result, a missing id's; the rest run."""

    def batch(ids: Ids, steps: tuple[BulkStep, ...] = recipe.steps) -> Request:
        request = post("/tasks/bulk/", {"operations": [step.item(ids) for step in steps]})
        operation.assert_sent_by(request)
        return request

    if subject == "anonymous":
        assert_not_authenticated(ask(shared, subject, batch(shared.ids)))
        return
    if subject in ROLES and not holds(subject, operation.permission):
        inbox = shared.inbox_tasks(subject)
        own = next(step for step in recipe.steps if step.stands_for is None)
        # The whole batch, and each operation on the project alone beside a create of one's own.
        batches = [recipe.steps] + [(own, step) for step in recipe.steps if step.stands_for]
        for steps in batches:
            answer = ask(shared, subject, batch(shared.ids, steps))
            assert_denied(answer, operation.permission)
        assert shared.inbox_tasks(subject) == inbox, "a refused batch ran some of its operations"
        return

    response = send(shared, subject, batch(shared.ids))
    assert_success(Answer.of(response), operation.success)
    results = [_result(result) for result in response.json()["results"]]
    assert len(results) == len(recipe.steps)
    missing_results: list[Answer] = []
    if subject not in ROLES:
        names = tuple(name for step in recipe.steps for name in step.names)
        missing_response = send(shared, subject, batch(shared.ids.missing(*names)))
        missing_results = [_result(result) for result in missing_response.json()["results"]]
    for index, (step, result) in enumerate(zip(recipe.steps, results, strict=True)):
        where = f"operation {index} ({step.stands_for or 'a create in my Inbox'})"
        if step.stands_for is None:
            assert result.status == OPERATIONS["taskCreate"].success, (where, result)
            continue
        single = OPERATIONS[step.stands_for]
        assert single.permission == operation.permission, (where, single.permission)
        if holds(subject, single.permission):
            assert result.status == single.success, (where, result)
        else:
            assert_hidden(
                result,
                missing_results[index],
                status=400 if step.field else 404,
                field=step.field,
            )


def _result(result: dict[str, Any]) -> Answer:
    """One result of a bulk write, as an answer (its `etag` as a header)."""
    headers = {"etag": result["etag"]} if "etag" in result else {}
    return Answer(result["status"], headers, result.get("body"))


def _refused(subject: str, permission: str, recipe: Recipe | BulkRecipe) -> bool:
    if isinstance(recipe, Recipe) and subject == "owner" and recipe.owner_answer is not None:
        return True
    return not holds(subject, permission)


CASES = [
    pytest.param(operation_id, subject, id=f"{operation_id}-{subject}")
    for operation_id in MATRIX_OPERATIONS
    for subject in SUBJECTS
]


@pytest.mark.parametrize(("operation_id", "subject"), CASES)
def test_matrix(db, operation_id, subject):
    operation = MATRIX_OPERATIONS[operation_id]
    recipe = RECIPES.get(operation_id)
    assert recipe is not None, (
        f"{operation_id} needs {operation.permission} (openapi.yaml) but RECIPES has no request "
        "for it: add one"
    )
    assert operation.permission in MATRIX, (
        f"{operation_id}'s x-permission {operation.permission!r} is not in the contract's table"
    )
    shared = shared_project()
    if isinstance(recipe, Recipe):
        operation.assert_sent_by(recipe.request(shared.ids))
    refused = _refused(subject, operation.permission, recipe)
    before = shared.owner_view() if refused else None

    if isinstance(recipe, BulkRecipe):
        _check_bulk(shared, subject, operation, recipe)
    else:
        _check_recipe(shared, subject, operation, recipe)

    if refused:
        assert shared.owner_view() == before, "a refused request changed the project"


def test_every_recipe_is_of_a_matrix_operation():
    # A recipe left behind by a renamed operation would leave the new name without one.
    assert set(RECIPES) <= set(MATRIX_OPERATIONS), set(RECIPES) - set(MATRIX_OPERATIONS)


def test_every_operation_of_the_table_is_in_the_contract():
    # The table is read from the contract; the cases follow its operations' x-permission.
    assert set(MATRIX) == {op.permission for op in MATRIX_OPERATIONS.values()}


# --- ids inside bodies and queries --------------------------------------------------------------


@dataclass(frozen=True)
class IdCase:
    """A request that names one of the project's objects by an id in its body or query.

    A member sends `member(ids, own)`, an outsider `outsider(ids, own)` (`own`: a task in the
    sender's Inbox). A member holding `permission` gets the operation's success; a viewer lacking
    it gets the 403 naming it. The outsider's answer must equal the one for `names` replaced by
    ids nothing has: `refused` (a 400 on `field`, or a 200 that lists nothing).
    """

    member: Callable[[Ids, int], Request]
    outsider: Callable[[Ids, int], Request]
    names: tuple[str, ...]
    refused: int
    field: str | None
    permission: str | None


ID_CASES = {
    "taskCreate.parent_id": IdCase(
        member=lambda i, own: post(
            "/tasks/", {"title": "Sub", "project_id": i.project, "parent_id": i.task}
        ),
        outsider=lambda i, own: post("/tasks/", {"title": "Sub", "parent_id": i.task}),
        names=("task",),
        refused=400,
        field="parent_id",
        permission="task:write",
    ),
    "taskMove.parent_id": IdCase(
        member=lambda i, own: post(f"/tasks/{i.sibling}/move/", {"parent_id": i.task}),
        outsider=lambda i, own: post(f"/tasks/{own}/move/", {"parent_id": i.task}),
        names=("task",),
        refused=400,
        field="parent_id",
        permission="task:write",
    ),
    "taskMove.after_id": IdCase(
        member=lambda i, own: post(f"/tasks/{i.sibling}/move/", {"after_id": i.task}),
        outsider=lambda i, own: post(f"/tasks/{own}/move/", {"after_id": i.task}),
        names=("task",),
        refused=400,
        field="after_id",
        permission="task:write",
    ),
    "taskMove.project_id": IdCase(
        member=lambda i, own: post(f"/tasks/{own}/move/", {"project_id": i.project}),
        outsider=lambda i, own: post(f"/tasks/{own}/move/", {"project_id": i.project}),
        names=("project",),
        refused=400,
        field="project_id",
        permission="task:write",
    ),
    "taskList.parent_id": IdCase(
        member=lambda i, own: get(f"/tasks/?parent_id={i.task}"),
        outsider=lambda i, own: get(f"/tasks/?parent_id={i.task}"),
        names=("task",),
        refused=200,
        field=None,
        permission=None,
    ),
}


@pytest.mark.parametrize(
    ("case_id", "subject"),
    [
        pytest.param(case, subject, id=f"{case}-{subject}")
        for case in ID_CASES
        for subject in SUBJECTS
    ],
)
def test_ids_in_bodies_and_queries(db, case_id, subject):
    case = ID_CASES[case_id]
    shared = shared_project()
    own = shared.own_task("owner" if subject == "anonymous" else subject)
    operation = OPERATIONS[case_id.split(".")[0]]
    operation.assert_sent_by(case.member(shared.ids, own))
    operation.assert_sent_by(case.outsider(shared.ids, own))
    lacks = case.permission is not None and not holds(subject, case.permission)
    refused = subject not in ROLES or lacks
    before = shared.owner_view() if refused else None

    if subject in ROLES:
        answer = ask(shared, subject, case.member(shared.ids, own))
        if refused:
            assert_denied(answer, case.permission)
        else:
            assert_success(answer, operation.success)
    else:
        answer = ask(shared, subject, case.outsider(shared.ids, own))
        if subject == "anonymous":
            assert_not_authenticated(answer)
        else:
            missing = ask(shared, subject, case.outsider(shared.ids.missing(*case.names), own))
            assert_hidden(answer, missing, status=case.refused, field=case.field)
            if case.refused == 200:
                assert answer.body["results"] == [], answer.body

    if refused:
        assert shared.owner_view() == before, "a refused request changed the project"


ASSIGNING = {
    "taskCreate": lambda i: post(
        "/tasks/", {"title": "Assigned", "project_id": i.project, "assignee_id": i.user}
    ),
    "taskReplace": lambda i: put(f"/tasks/{i.task}/", {"title": "Assigned", "assignee_id": i.user}),
    "taskUpdate": lambda i: patch(f"/tasks/{i.task}/", {"assignee_id": i.user}),
    "taskBulk": lambda i: post(
        "/tasks/bulk/",
        {"operations": [{"op": "update", "id": i.task, "body": {"assignee_id": i.user}}]},
    ),
}


@pytest.mark.parametrize(
    ("operation_id", "assignee"),
    [
        pytest.param(operation_id, subject, id=f"{operation_id}-{subject}")
        for operation_id in ASSIGNING
        for subject in SUBJECTS
        if subject != "anonymous"  # an assignee is a user
    ],
)
def test_an_assignee_must_be_a_member(db, operation_id, assignee):
    """An editor assigns a task of the project to the subject: a member of any role may be
    assigned; anyone else is refused exactly like a user id that does not exist."""
    shared = shared_project()
    ids = replace(shared.ids, user=shared.users[assignee].pk)
    request = ASSIGNING[operation_id]
    OPERATIONS[operation_id].assert_sent_by(request(ids))
    before = shared.owner_view() if assignee not in ROLES else None

    answer = _single(ask(shared, "editor", request(ids)), bulk=operation_id == "taskBulk")

    if assignee in ROLES:
        success = OPERATIONS["taskUpdate" if operation_id == "taskBulk" else operation_id].success
        assert answer.status == success, answer
        assert answer.body["assignee_id"] == ids.user
    else:
        missing = _single(
            ask(shared, "editor", request(ids.missing("user"))), bulk=operation_id == "taskBulk"
        )
        assert_hidden(answer, missing, status=400, field="assignee_id")
        assert shared.owner_view() == before, "a refused assignment changed the project"


def _single(answer: Answer, *, bulk: bool) -> Answer:
    """The answer, or the only result of a bulk write."""
    if not bulk:
        return answer
    assert answer.status == 200, answer
    (result,) = answer.body["results"]
    return _result(result)


# --- SECURITY.md ---------------------------------------------------------------------------------

SECTION = "### Shared projects: the authorization matrix"
NODE = re.compile(r"`tests/projects/test_matrix\.py::test_matrix\[([\w.]+)-(\w+)\]`")


def test_security_md_binds_every_cell_to_its_test():
    text = (REPO / "SECURITY.md").read_text()
    assert SECTION in text, f"SECURITY.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1]

    assert published_matrix(section) == MATRIX, "SECURITY.md's table is not the contract's"
    named = set(NODE.findall(text))
    cases = {(operation_id, subject) for operation_id in MATRIX_OPERATIONS for subject in SUBJECTS}
    assert cases - named == set(), "cases SECURITY.md does not name"
    assert named - cases == set(), "SECURITY.md names cases that do not exist"
