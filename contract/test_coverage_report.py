"""The coverage report's rules, on a small contract and hand-made request records."""

from __future__ import annotations

import json
import textwrap

import pytest

from contract import coverage_plugin, coverage_report

CONTRACT = textwrap.dedent(
    """
    openapi: 3.1.0
    info: {title: t, version: "1"}
    security: [{bearerAuth: []}]
    paths:
      /health/:
        get:
          security: []
          responses: {"200": {description: ok}}
      /tasks/mine/:
        get:
          responses: {"200": {description: ok}}
      /tasks/{id}/:
        get:
          operationId: taskGet
          responses:
            "200": {description: ok}
            "404": {description: missing}
    """
)


@pytest.fixture
def contract(tmp_path):
    path = tmp_path / "openapi.yaml"
    path.write_text(CONTRACT)
    return path


def records(tmp_path, *rows: tuple[str, str, str | None, str, int]):
    directory = tmp_path / "records"
    directory.mkdir()
    with (directory / "session.jsonl").open("w") as handle:
        for test, method, route, path, status in rows:
            row = {"test": test, "method": method, "route": route, "path": path, "status": status}
            handle.write(json.dumps(row) + "\n")
    return directory


ALL_REACHED = (
    ("t::health", "GET", "health/", "/health/", 200),
    ("t::mine", "GET", "tasks/mine/", "/tasks/mine/", 200),
    ("t::get", "GET", "tasks/<int:task_id>/", "/tasks/7/", 200),
    # Not an int: Django resolves no route, the path still names the operation.
    ("t::missing", "GET", None, "/tasks/abc/", 404),
)


def test_every_documented_status_reached_passes(contract, tmp_path, capsys):
    assert coverage_report.main([str(contract), str(records(tmp_path, *ALL_REACHED))]) == 0
    assert "4/4 documented statuses reached" in capsys.readouterr().out


def test_a_django_route_maps_to_the_templated_path_and_a_literal_path_wins(contract):
    paths = coverage_report.load_contract(contract)

    assert coverage_report.find_path(paths, "tasks/<int:task_id>/", None).template == "/tasks/{id}/"
    assert coverage_report.find_path(paths, None, "/tasks/mine/").template == "/tasks/mine/"
    assert coverage_report.find_path(paths, None, "/_faults/bug/") is None


def test_a_documented_status_no_test_reaches_fails(contract, tmp_path, capsys):
    directory = records(tmp_path, *ALL_REACHED[:3])

    assert coverage_report.main([str(contract), str(directory)]) == 1
    assert "MISSING" in capsys.readouterr().out


def test_an_undocumented_status_fails_and_names_the_test(contract, tmp_path, capsys):
    directory = records(tmp_path, *ALL_REACHED, ("t::boom", "GET", None, "/tasks/9/", 500))

    assert coverage_report.main([str(contract), str(directory)]) == 1
    out = capsys.readouterr().out
    assert "GET /tasks/{id}/ -> 500" in out
    assert "t::boom" in out


def test_an_unlisted_method_may_only_get_405_or_the_401_before_it(contract, tmp_path, capsys):
    directory = records(
        tmp_path,
        *ALL_REACHED,
        ("t::a", "DELETE", "tasks/<int:task_id>/", "/tasks/7/", 405),
        ("t::b", "DELETE", "tasks/<int:task_id>/", "/tasks/7/", 401),
        ("t::c", "OPTIONS", "tasks/<int:task_id>/", "/tasks/7/", 200),
    )

    assert coverage_report.main([str(contract), str(directory)]) == 1
    out = capsys.readouterr().out
    assert "OPTIONS /tasks/{id}/ (method not in the contract) -> 200" in out
    assert "-> 405" not in out
    assert "-> 401" not in out


def test_requests_outside_the_contract_are_ignored(contract, tmp_path):
    fault = ("t::f", "GET", "_faults/bug/", "/_faults/bug/", 500)
    directory = records(tmp_path, *ALL_REACHED, fault)

    assert coverage_report.main([str(contract), str(directory)]) == 0


def test_no_records_is_a_failure_not_an_empty_pass(contract, tmp_path):
    (tmp_path / "empty").mkdir()

    assert coverage_report.main([str(contract), str(tmp_path / "empty")]) == 1


def test_live_request_ids_lead_back_to_the_test():
    prefix = coverage_plugin.request_id_prefix("tests/core/test_x.py::test_y[a/b]")

    assert coverage_plugin._TEST_REQUEST_ID.match(prefix + "0123abcd")
    # The app keeps only sane request ids: [A-Za-z0-9._-]{1,128}.
    assert all(c.isalnum() or c in "._-" for c in prefix + "0123abcd")
