"""Deprecation, Sunset and Link headers come from openapi.yaml (core/deprecation.py).

Nothing in today's API is deprecated, so each test marks elements deprecated in a copy of the
contract and points the app at it.
"""

import copy
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
import yaml
from django.conf import settings as django_settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpResponse
from rest_framework.test import APIClient

from taskapi.core.deprecation import (
    MINIMUM_NOTICE,
    ContractDeprecationError,
    DeprecationMiddleware,
    deprecations_in,
)
from tests.factories import TaskFactory

pytestmark = pytest.mark.django_db

DEPRECATED_AT = date(2027, 1, 15)
SUNSET = date(2027, 7, 15)
DATES = {"deprecated": True, "x-deprecated-at": DEPRECATED_AT, "x-sunset": SUNSET}
EXPECTED = {
    "Deprecation": f"@{int(datetime(2027, 1, 15, tzinfo=UTC).timestamp())}",
    "Sunset": "Thu, 15 Jul 2027 00:00:00 GMT",
    "Link": '</openapi.yaml>; rel="deprecation"; type="application/yaml"',
}


@cache
def _contract_text() -> str:
    return Path(django_settings.CONTRACT_PATH).read_text()


def today_contract() -> dict:
    return yaml.safe_load(_contract_text())


@pytest.fixture
def contract_copy(tmp_path, settings):
    """Write a changed copy of the contract and serve the app from it.

    A test client loads the middleware at its first request, so the copy applies to any client
    that has not sent one yet.
    """

    def use(contract: dict) -> None:
        path = tmp_path / "openapi.yaml"
        path.write_text(yaml.safe_dump(contract, sort_keys=False))
        settings.CONTRACT_PATH = path

    return use


def deprecation_headers(response) -> dict[str, str]:
    return {name: response[name] for name in EXPECTED if name in response}


@pytest.fixture
def task_read_deprecated(contract_copy) -> None:
    contract = today_contract()
    contract["paths"]["/tasks/{id}/"]["get"].update(DATES)
    contract_copy(contract)


@pytest.mark.usefixtures("task_read_deprecated")
def test_a_deprecated_operation_answers_with_deprecation_sunset_and_link(user, api_client):
    task = TaskFactory(owner=user)

    response = api_client.get(f"/tasks/{task.pk}/")

    assert response.status_code == 200
    assert deprecation_headers(response) == EXPECTED


@pytest.mark.usefixtures("task_read_deprecated")
def test_errors_of_a_deprecated_operation_carry_the_headers_too():
    response = APIClient().get("/tasks/999999/")  # no token: a 401

    assert response.status_code == 401
    assert deprecation_headers(response) == EXPECTED


@pytest.mark.usefixtures("task_read_deprecated")
def test_the_other_operations_of_the_path_and_the_api_carry_none(user, api_client):
    task = TaskFactory(owner=user)

    patched = api_client.patch(f"/tasks/{task.pk}/", {"title": "new"}, format="json")
    listed = api_client.get("/tasks/")

    assert patched.status_code == 200
    assert listed.status_code == 200
    assert deprecation_headers(patched) == {}
    assert deprecation_headers(listed) == {}


def _deprecate_parameter(contract: dict, name: str) -> None:
    parameters = contract["paths"]["/tasks/"]["get"]["parameters"]
    for index, parameter in enumerate(parameters):
        if "$ref" in parameter:
            reference = parameter["$ref"].removeprefix("#/components/parameters/")
            parameter = copy.deepcopy(contract["components"]["parameters"][reference])
        if parameter.get("name") == name:
            parameters[index] = {**parameter, **DATES}
            return
    raise AssertionError(f"taskList has no parameter {name}")


def test_a_deprecated_query_parameter_marks_only_the_requests_that_use_it(
    contract_copy, api_client
):
    contract = today_contract()
    _deprecate_parameter(contract, "completed")
    contract_copy(contract)

    with_it = api_client.get("/tasks/?completed=true")
    without_it = api_client.get("/tasks/?priority=high")

    assert (with_it.status_code, without_it.status_code) == (200, 200)
    assert deprecation_headers(with_it) == EXPECTED
    assert deprecation_headers(without_it) == {}


def test_a_deprecation_link_in_the_contract_replaces_the_default(contract_copy, user):
    contract = today_contract()
    link = "https://docs.example.com/migrations/tasks-v2"
    contract["paths"]["/health/"]["get"].update({**DATES, "x-deprecation-link": link})
    contract_copy(contract)

    response = APIClient().get("/health/")

    assert response["Link"] == f'<{link}>; rel="deprecation"; type="text/html"'


def test_a_literal_path_is_not_taken_for_a_template_that_also_matches():
    contract = {
        "paths": {
            "/tasks/{id}/": {"get": {**DATES}},
            "/tasks/trash/": {"get": {}},
        }
    }

    rules = deprecations_in(contract)

    assert [rule.path.pattern for rule in rules] == [r"/tasks/[^/]+/\Z"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x-sunset": None}, "without an x-sunset date"),
        ({"x-deprecated-at": None}, "without an x-deprecated-at date"),
        (
            {"x-sunset": DEPRECATED_AT + MINIMUM_NOTICE - timedelta(days=1)},
            f"at least {MINIMUM_NOTICE.days} days after",
        ),
    ],
    ids=["no sunset", "no deprecation date", "notice too short"],
)
def test_a_deprecation_that_breaks_the_policy_is_refused(change, message):
    operation = {key: value for key, value in {**DATES, **change}.items() if value is not None}

    with pytest.raises(ContractDeprecationError, match=message):
        deprecations_in({"paths": {"/health/": {"get": operation}}})


def test_a_deprecated_path_parameter_is_refused():
    parameter = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    contract = {"paths": {"/tasks/{id}/": {"get": {"parameters": [{**parameter, **DATES}]}}}}

    with pytest.raises(ContractDeprecationError, match="deprecate the operation"):
        deprecations_in(contract)


def test_every_deprecation_in_todays_contract_follows_the_policy():
    # Today nothing is deprecated; the day something is, its dates are checked here too.
    deprecations_in(today_contract())


def test_with_nothing_deprecated_the_middleware_leaves_the_chain():
    with pytest.raises(MiddlewareNotUsed):
        DeprecationMiddleware(lambda request: HttpResponse())
