"""The API docs page, loaded by a real headless browser from the real server."""

import json
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from tests.support.browser import VIEWPORT, open_page
from tests.support.servers import REPO

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

RENDERED_OPERATIONS = """
[...document.querySelectorAll('.opblock')].map(block => [
  block.querySelector('.opblock-summary-method')?.textContent.trim().toLowerCase(),
  block.querySelector('.opblock-summary-path')?.getAttribute('data-path'),
])
"""

AUTHORIZE_BOTTOM = "document.querySelector('.btn.authorize').getBoundingClientRect().bottom"

FOLDED_GUIDE = """(() => {
  const details = document.querySelector('.info .api-guide details');
  return details && {
    open: details.open,
    summary: details.querySelector('summary').textContent,
    headings: [...details.querySelectorAll('h2')].map(h => h.textContent.trim()),
  };
})()"""

TASK_LIST = "#operations-tasks-taskList"

PARAMETER_VALUES = f"""
[...document.querySelectorAll('{TASK_LIST} tr[data-param-name]')].map(row => [
  row.dataset.paramName,
  [...row.querySelectorAll('input, select')].map(field =>
    field.multiple ? [...field.selectedOptions].map(o => o.value).join(',') : field.value
  ).join(''),
])
"""

RESPONSE = "ui.specSelectors.responseFor('/tasks/', 'get')"

# What try-it-out may start from: values that narrow nothing (the defaults of the page size and
# the ordering) and the request id, which is echoed, not a filter.
NOT_FILTERS = {"page_size", "ordering", "X-Request-ID"}


def contract() -> dict:
    return yaml.safe_load((REPO / "openapi.yaml").read_text())


def contract_operations() -> set[tuple[str, str]]:
    """The operations of `paths`, and the requests of `webhooks` (what the API sends, shown by
    Swagger UI under each entry's name)."""
    document = contract()
    return {
        (method, path)
        for section in ("paths", "webhooks")
        for path, item in document.get(section, {}).items()
        for method in item
        if method in HTTP_METHODS
    }


@pytest.mark.server
@pytest.mark.browser
def test_docs_page_renders_every_operation_with_no_request_leaving_the_machine(live_app):
    expected = contract_operations()
    assert expected, "the contract has no operations"

    with open_page(f"{live_app.base_url}/api/docs/") as page:
        page.wait_for(f"document.querySelectorAll('.opblock').length >= {len(expected)}")
        rendered = {tuple(pair) for pair in page.evaluate(RENDERED_OPERATIONS)}
        requested = list(page.requested_urls)
        failed = list(page.failed_requests)

    assert rendered == expected
    assert requested, "the page made no request at all"
    hosts = {urlsplit(url).hostname for url in requested if not url.startswith("data:")}
    assert hosts == {"127.0.0.1"}
    assert failed == []


@pytest.mark.server
@pytest.mark.browser
def test_authorize_is_on_the_first_screen_with_the_guide_folded_whole_below_its_introduction(
    live_app,
):
    guide = contract()["info"]["description"]
    sections = re.findall(r"^## (.+)$", guide, re.M)
    assert len(sections) > 5, "the contract's description has no sections to fold"

    with open_page(f"{live_app.base_url}/api/docs/") as page:
        page.wait_for("document.querySelectorAll('.opblock').length > 0")
        authorize_bottom = page.evaluate(AUTHORIZE_BOTTOM)
        folded = page.evaluate(FOLDED_GUIDE)

    # Rendered whole, the description put Authorize about 5,000 px down.
    assert 0 < authorize_bottom <= VIEWPORT[1]
    assert folded is not None, "the guide is not folded"
    assert folded["open"] is False
    assert folded["summary"] == "The API guide: " + " · ".join(sections)
    assert folded["headings"] == sections  # every section is still there, folded


@pytest.mark.server
@pytest.mark.browser
def test_try_it_out_on_the_task_list_sends_no_filter_and_lists_the_users_tasks(live_app):
    http = live_app.http
    credentials = {
        "email": f"docs-{uuid.uuid4().hex[:12]}@example.com",
        "password": "pw-docs-1843!",
    }
    assert http.post("/auth/register/", json=credentials).status_code == 201
    access = http.post("/auth/login/", json=credentials).json()["access"]
    auth = {"Authorization": f"Bearer {access}"}
    titles = {"Read the docs page", "Try it out"}
    for title in titles:
        assert http.post("/tasks/", json={"title": title}, headers=auth).status_code == 201

    with open_page(f"{live_app.base_url}/api/docs/") as page:
        page.wait_for(f"!!document.querySelector('{TASK_LIST} .opblock-summary-control')")
        page.evaluate(f"ui.preauthorizeApiKey('bearerAuth', {json.dumps(access)})")
        page.evaluate(f"document.querySelector('{TASK_LIST} .opblock-summary-control').click()")
        page.wait_for(f"!!document.querySelector('{TASK_LIST} .try-out__btn')")
        page.evaluate(f"document.querySelector('{TASK_LIST} .try-out__btn').click()")
        page.wait_for(f"!!document.querySelector('{TASK_LIST} .btn.execute')")
        values = dict(page.evaluate(PARAMETER_VALUES))
        page.evaluate(f"document.querySelector('{TASK_LIST} .btn.execute').click()")
        page.wait_for(f"{RESPONSE}?.get('status')")
        sent = page.evaluate("ui.specSelectors.requestFor('/tasks/', 'get').get('url')")
        answer = page.evaluate(f"(r => [r.get('status'), r.get('text')])({RESPONSE})")

    filters = {name: value for name, value in values.items() if name not in NOT_FILTERS}
    assert "search" in filters and "label" in filters, values  # the form was read
    assert filters == dict.fromkeys(filters, "")
    assert set(parse_qs(urlsplit(sent).query)) <= NOT_FILTERS - {"X-Request-ID"}
    status, text = answer
    assert status == 200
    assert {task["title"] for task in json.loads(text)["results"]} == titles


def test_no_optional_query_parameter_of_the_contract_has_an_example_to_prefill():
    """Swagger UI's try-it-out fills a parameter's example in as its value: on a filter, an
    example matches nothing of a new user's data."""
    document = contract()
    parameters = document["components"]["parameters"]
    prefilled = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]:
                resolved = (
                    parameters[parameter["$ref"].rsplit("/", 1)[1]]
                    if "$ref" in parameter
                    else parameter
                )
                schema = resolved.get("schema", {})
                optional_query = resolved["in"] == "query" and not resolved.get("required")
                if optional_query and {"example", "examples"} & (resolved.keys() | schema.keys()):
                    prefilled.append(f"{method.upper()} {path} {resolved['name']}")

    assert prefilled == []
