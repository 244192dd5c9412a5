"""The isolation check's own rules (contract/fuzzing/), on responses built here."""

from __future__ import annotations

import json

import pytest
import requests

from contract.fuzzing.isolation.replay import Answer


def response(headers: dict[str, str], body: bytes = b'{"status":404}') -> requests.Response:
    made = requests.Response()
    made.status_code = 404
    made.headers.update(headers)
    made._content = body
    return made


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


def test_a_bulk_probe_names_the_victim_in_every_operation_and_creates_nothing():
    from contract.fuzzing.isolation.bulk import _bulk_probe

    generated = {
        "operations": [
            {"op": "create", "body": {"title": "x"}},
            {"op": "update", "id": 5, "if_match": '"2"', "body": {"title": "y"}},
            {"op": "delete", "id": 6},
            "garbage",
        ]
    }

    probe = _bulk_probe(generated, 42, '"3"')

    operations = probe["operations"]
    assert {operation["id"] for operation in operations} == {42}
    assert [operation["op"] for operation in operations] == [
        "update", "delete", "update", "update", "delete", "delete",
    ]  # fmt: skip
    assert operations[0]["if_match"] == '"2"'
    assert {"op": "delete", "id": 42, "if_match": '"3"'} in operations


def test_a_bulk_probe_keeps_a_few_generated_operations():
    from contract.fuzzing.isolation.bulk import BULK_PROBE_GENERATED, _bulk_probe

    generated = {"operations": [{"op": "delete", "id": n} for n in range(100)]}

    assert len(_bulk_probe(generated, 42, '"1"')["operations"]) == BULK_PROBE_GENERATED + 4


def test_a_body_that_is_not_a_batch_is_probed_as_generated():
    from contract.fuzzing.isolation.bulk import _bulk_probe

    assert _bulk_probe({"operations": "x"}, 42, None) == {"operations": "x"}
    assert _bulk_probe([1, 2], 42, None) == [1, 2]


def _bulk_answer(operations: list, results: list) -> tuple[object, object]:
    from types import SimpleNamespace

    case = SimpleNamespace(body={"operations": operations})
    answer = SimpleNamespace(content=json.dumps({"results": results}).encode())
    return answer, case


def test_a_400_result_for_an_operation_the_contract_accepts_is_a_failure():
    from contract.fuzzing.refusals import _check_bulk_results

    answer, case = _bulk_answer(
        [{"op": "create", "body": {"title": "fine"}}], [{"status": 400, "body": {}}]
    )

    with pytest.raises(AssertionError, match="valid for the contract's schema"):
        _check_bulk_results(answer, case)


def test_an_operation_the_contract_rejects_must_be_refused():
    from contract.fuzzing.refusals import _check_bulk_results

    answer, case = _bulk_answer(
        [{"op": "create", "body": {"title": "x", "completed": "yes"}}], [{"status": 201}]
    )

    with pytest.raises(AssertionError, match="breaks the contract's schema"):
        _check_bulk_results(answer, case)


# Found by the fuzzer: schemathesis labelled this positive, but the title's pattern refuses it.
def test_a_title_of_a_control_character_that_python_strips_may_be_a_400_result():
    from contract.fuzzing.refusals import _check_bulk_results

    answer, case = _bulk_answer(
        [{"op": "create", "body": {"title": "\x1c"}}, {"op": "delete", "id": 7}],
        [{"status": 400, "body": {}}, {"status": 404, "body": {}}],
    )

    _check_bulk_results(answer, case)
