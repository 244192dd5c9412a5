"""The fuzzing hooks' own rules (contract/fuzzing/), on answers built here: the matrix check's
comparison of two answers, its judgement of each subject, its bulk probe, and the refusals."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import requests
import yaml
from tests.support.servers import REPO

from contract.fuzzing.fixtures import Snapshot
from contract.fuzzing.isolation import judge as rules
from contract.fuzzing.isolation.matrix import (
    ANONYMOUS,
    EDITOR,
    NON_MEMBER,
    REMOVED,
    SUBJECTS,
    VIEWER,
    table,
)
from contract.fuzzing.isolation.replay import MISSING_ID_OFFSET, Answer
from contract.fuzzing.isolation.targets import BULK_PROBE_GENERATED, Target
from contract.fuzzing.sharing import Shared

WRITERS = frozenset({"owner", "editor"})
NOT_FOUND = b'{"type":"/problems/not-found","title":"Task not found.","status":404}'


def response(headers: dict[str, str], body: bytes = b'{"status":404}') -> requests.Response:
    made = requests.Response()
    made.status_code = 404
    made.headers.update(headers)
    made._content = body
    return made


def answer(status: int, body: object = None, headers: dict[str, str] | None = None) -> Answer:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Answer(status, headers or {"content-type": "application/problem+json"}, content)


def denial(permission: str) -> dict[str, object]:
    return {
        "type": "/problems/permission-denied",
        "title": "Permission denied.",
        "status": 403,
        "permission": permission,
    }


# --- two answers: the same, or not --------------------------------------------------------------


# Found by the first fuzzing run through nginx: its keepalive_requests limit closed one of the
# two connections, and `Connection: close` was taken for a difference between the answers.
def test_hop_by_hop_headers_are_not_a_difference_between_two_answers():
    kept = response({"Connection": "keep-alive", "Keep-Alive": "timeout=30", "Allow": "GET"})
    closed = response({"Connection": "close", "Allow": "GET"})

    assert Answer.of(kept, "").same_as(Answer.of(closed, ""))


def test_an_end_to_end_header_that_differs_is_a_difference():
    one = response({"Connection": "keep-alive", "Allow": "GET"})
    other = response({"Connection": "keep-alive", "Allow": "GET, DELETE"})

    assert not Answer.of(one, "").same_as(Answer.of(other, ""))


def test_a_body_that_differs_is_a_difference():
    one = response({}, b'{"detail":"No task with this id exists."}')
    other = response({}, b'{"detail":"Task 7 is not yours."}')

    assert not Answer.of(one, "").same_as(Answer.of(other, ""))


# --- the matrix, as the contract publishes it ----------------------------------------------------


def test_the_contracts_table_is_read_role_by_role():
    description = yaml.safe_load((REPO / "openapi.yaml").read_text())["info"]["description"]

    matrix = table(description)

    assert matrix["task:write"] == WRITERS
    assert matrix["task:read"] == {"owner", "editor", "viewer"}
    assert matrix["member:manage"] == {"owner"}


def test_the_table_is_read_by_its_header_not_by_position():
    description = (
        "| Permission | viewer | owner | editor | Operations |\n"
        "| --- | :---: | :---: | :---: | --- |\n"
        "| `task:write` | no | yes | yes | `taskCreate` |\n"
    )

    assert table(description) == {"task:write": WRITERS}


def test_every_subject_comes_round_in_make_tests_sample():
    from contract.fuzzing.isolation.check import sample

    # Two a request: every subject within as many requests as there are pairs of them.
    turns = -(-len(SUBJECTS) // 2)
    seen = [subject for _ in range(turns) for subject in sample("GET /rotation-test/")]

    assert set(seen) == set(SUBJECTS)


# --- one subject's answer, judged by the matrix ---------------------------------------------


def test_a_viewers_403_naming_task_write_is_accepted():
    viewers = answer(403, denial("task:write"))

    assert rules.judge(VIEWER, "task:write", WRITERS, viewers) is None


def test_a_viewers_200_on_task_write_is_reported():
    viewers = answer(200, {"id": 7, "title": "changed"})

    assert "403 permission-denied" in rules.judge(VIEWER, "task:write", WRITERS, viewers)


def test_a_viewers_403_naming_another_permission_is_reported():
    viewers = answer(403, denial("trash:write"))

    assert rules.judge(VIEWER, "task:write", WRITERS, viewers) is not None


def test_a_non_members_403_instead_of_the_missing_ids_404_is_reported_as_a_leak():
    theirs = answer(403, denial("task:write"))
    missing = answer(404, NOT_FOUND)

    failure = rules.judge(NON_MEMBER, "task:write", WRITERS, theirs, missing=missing)

    assert "can tell that the object exists" in failure


def test_a_removed_members_answer_equal_to_the_missing_ids_is_accepted():
    theirs, missing = answer(404, NOT_FOUND), answer(404, NOT_FOUND)

    assert rules.judge(REMOVED, "task:read", WRITERS, theirs, missing=missing) is None


def test_a_non_members_404_with_another_body_is_reported():
    theirs = answer(404, b'{"type":"/problems/not-found","title":"Not a member."}')
    missing = answer(404, NOT_FOUND)

    assert rules.judge(NON_MEMBER, "task:read", WRITERS, theirs, missing=missing) is not None


def test_an_editor_gets_what_the_owner_gets():
    assert rules.judge(EDITOR, "task:write", WRITERS, answer(200), owner=answer(200)) is None
    assert rules.judge(EDITOR, "task:write", WRITERS, answer(412), owner=answer(412)) is None


def test_an_editors_403_where_the_owner_succeeds_is_reported():
    editors = answer(403, denial("task:write"))

    assert rules.judge(EDITOR, "task:write", WRITERS, editors, owner=answer(200)) is not None


def test_an_editors_other_refusal_than_the_owners_is_reported():
    assert rules.judge(EDITOR, "task:write", WRITERS, answer(404), owner=answer(412)) is not None


def test_a_member_leaves_where_the_owner_must_hand_over_first():
    everyone = frozenset({"owner", "editor", "viewer"})
    owners = answer(409, {"type": "/problems/conflict"})

    assert rules.judge(VIEWER, "project:leave", everyone, answer(204), owner=owners) is None
    assert rules.judge(VIEWER, "project:leave", everyone, owners, owner=owners) is not None


def test_anonymous_gets_401_not_the_objects_answer():
    unauthenticated = answer(401, {"type": "/problems/not-authenticated"})

    assert rules.judge(ANONYMOUS, "task:read", WRITERS, unauthenticated) is None
    assert rules.judge(ANONYMOUS, "task:read", WRITERS, answer(404, NOT_FOUND)) is not None


# --- a bulk write, operation by operation ---------------------------------------------------


def bulk(*results: dict[str, object]) -> Answer:
    return answer(200, {"results": list(results)})


def test_a_non_members_bulk_write_must_get_the_missing_ids_results():
    not_found = {"status": 404, "body": {"type": "/problems/not-found"}}
    refused = {"status": 403, "body": denial("task:write")}

    same = rules.judge_bulk(
        NON_MEMBER, "task:write", WRITERS, bulk(not_found), missing=bulk(not_found)
    )
    leaked = rules.judge_bulk(
        NON_MEMBER, "task:write", WRITERS, bulk(refused), missing=bulk(not_found)
    )

    assert same is None
    assert leaked is not None


def test_a_viewers_bulk_write_is_refused_as_a_whole():
    refused = answer(403, denial("task:write"))

    assert rules.judge_bulk(VIEWER, "task:write", WRITERS, refused) is None


def test_a_viewers_bulk_write_with_results_is_reported():
    not_found = {"status": 404, "body": {"type": "/problems/not-found"}}
    applied = {"status": 200, "etag": '"2"', "body": {"id": 7}}
    owners = bulk(applied, applied)

    failure = rules.judge_bulk(
        VIEWER, "task:write", WRITERS, bulk(not_found, applied), owner=owners
    )

    assert "403 permission-denied" in failure


def test_an_editors_bulk_write_gets_the_owners_results():
    applied, stale = {"status": 200, "body": {}}, {"status": 412, "body": {}}

    same = rules.judge_bulk(
        EDITOR, "task:write", WRITERS, bulk(applied, stale), owner=bulk(applied, stale)
    )
    other = rules.judge_bulk(
        EDITOR, "task:write", WRITERS, bulk(stale, stale), owner=bulk(applied, stale)
    )

    assert same is None
    assert "bulk operation 0" in other


def test_a_batch_nobody_can_read_is_judged_whole():
    unreadable = answer(400, {"type": "/problems/validation-error"})

    assert rules.judge_bulk(VIEWER, "task:write", WRITERS, unreadable, owner=unreadable) is None


# --- lists --------------------------------------------------------------------------------


def test_a_list_row_from_a_project_the_subject_cannot_read_is_reported():
    page = {"results": [{"id": 1, "project_id": 7}, {"id": 2, "project_id": 9}]}

    assert rules.unreadable_rows(page, {7}) == [(2, 9)]
    assert rules.strangers({"deleted": [1, 5]}, {1}, key="deleted") == [5]


# --- the probe: the generated request, naming real or missing ids ------------------------------


def target(*, bulk: bool = True) -> Target:
    """Targets in project 7; for a bulk write, with task 42 to name."""
    shared = Shared(7, {"A": 1, "E": 2, "V": 3}, 11, Snapshot(200, b"", None))
    return Target(shared, etag='"3"', ids={"task": 42} if bulk else {}, labels=[100, 101])


def probe(body: object, *, missing_ids: bool = False, holder: bool = False) -> object:
    case = SimpleNamespace(
        body=body, query=None, operation=SimpleNamespace(label="POST /tasks/bulk/")
    )
    return target().request(case, missing_ids=missing_ids, holder=holder)["body"]


def test_a_bulk_probe_names_the_target_in_every_update_and_delete_and_creates_in_the_project():
    generated = {
        "operations": [
            {"op": "create", "body": {"title": "x"}},
            {"op": "update", "id": 5, "if_match": '"2"', "body": {"title": "y"}},
            {"op": "delete", "id": 6},
            "garbage",
        ]
    }

    operations = probe(generated)["operations"]

    assert [operation["op"] for operation in operations] == [
        "create", "update", "delete", "update", "update", "delete", "delete", "create",
    ]  # fmt: skip
    assert {operation["id"] for operation in operations if "id" in operation} == {42}
    assert {o["body"]["project_id"] for o in operations if o["op"] == "create"} == {7}
    assert operations[1]["if_match"] == '"2"'
    assert {"op": "delete", "id": 42, "if_match": '"3"'} in operations


def test_a_missing_probe_names_no_real_id():
    generated = {"operations": [{"op": "create", "body": {"title": "x", "labels": [1, 2]}}]}

    operations = probe(generated, missing_ids=True)["operations"]

    assert operations[0]["body"]["project_id"] == MISSING_ID_OFFSET + 7
    assert operations[0]["body"]["labels"] == [MISSING_ID_OFFSET + 100, MISSING_ID_OFFSET + 101]
    assert {o["id"] for o in operations if "id" in o} == {MISSING_ID_OFFSET + 42}


def test_a_holders_probe_carries_none_of_the_owners_labels():
    generated = {"operations": [{"op": "create", "body": {"title": "x", "labels": [1, 2]}}]}

    assert probe(generated, holder=True)["operations"][0]["body"]["labels"] == []


def test_a_create_names_the_shared_project_unless_its_body_is_no_object():
    def create(body: object) -> dict:
        case = SimpleNamespace(
            body=body, query=None, operation=SimpleNamespace(label="POST /tasks/")
        )
        return target(bulk=False).request(case, missing_ids=False, holder=False)

    assert create({"title": "x"})["body"]["project_id"] == 7
    assert target(bulk=False).names_a_project(create({"title": "x"}))
    assert not target(bulk=False).names_a_project(create(None))
    assert not target(bulk=False).names_a_project(create({"title": "x", "project_id": "seven"}))


def test_a_bulk_probe_keeps_a_few_generated_operations():
    generated = {"operations": [{"op": "delete", "id": n} for n in range(100)]}

    assert len(probe(generated)["operations"]) == BULK_PROBE_GENERATED + 5


def test_a_body_that_is_not_a_batch_is_probed_as_generated():
    assert probe({"operations": "x"}) == {"operations": "x"}
    assert probe([1, 2]) == [1, 2]


# --- refusals of schema-valid data ----------------------------------------------------------


def _bulk_answer(operations: list, results: list) -> tuple[object, object]:
    case = SimpleNamespace(body={"operations": operations})
    made = SimpleNamespace(content=json.dumps({"results": results}).encode())
    return made, case


def test_a_400_result_for_an_operation_the_contract_accepts_is_a_failure():
    from contract.fuzzing.refusals import _check_bulk_results

    made, case = _bulk_answer(
        [{"op": "create", "body": {"title": "fine"}}], [{"status": 400, "body": {}}]
    )

    with pytest.raises(AssertionError, match="valid for the contract's schema"):
        _check_bulk_results(made, case)


def test_an_operation_the_contract_rejects_must_be_refused():
    from contract.fuzzing.refusals import _check_bulk_results

    made, case = _bulk_answer(
        [{"op": "create", "body": {"title": "x", "completed": "yes"}}], [{"status": 201}]
    )

    with pytest.raises(AssertionError, match="breaks the contract's schema"):
        _check_bulk_results(made, case)


# Found by the fuzzer: schemathesis labelled this positive, but the title's pattern refuses it.
def test_a_title_of_a_control_character_that_python_strips_may_be_a_400_result():
    from contract.fuzzing.refusals import _check_bulk_results

    made, case = _bulk_answer(
        [{"op": "create", "body": {"title": "\x1c"}}, {"op": "delete", "id": 7}],
        [{"status": 400, "body": {}}, {"status": 404, "body": {}}],
    )

    _check_bulk_results(made, case)
