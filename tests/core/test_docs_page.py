"""The API docs page, loaded by a real headless browser from the real server."""

from urllib.parse import urlsplit

import pytest
import yaml

from tests.support.browser import open_page
from tests.support.servers import REPO

pytestmark = [pytest.mark.server, pytest.mark.browser]

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

RENDERED_OPERATIONS = """
[...document.querySelectorAll('.opblock')].map(block => [
  block.querySelector('.opblock-summary-method')?.textContent.trim().toLowerCase(),
  block.querySelector('.opblock-summary-path')?.getAttribute('data-path'),
])
"""


def contract_operations() -> set[tuple[str, str]]:
    """The operations of `paths`, and the requests of `webhooks` (what the API sends, shown by
    Swagger UI under each entry's name)."""
    contract = yaml.safe_load((REPO / "openapi.yaml").read_text())
    return {
        (method, path)
        for section in ("paths", "webhooks")
        for path, item in contract.get(section, {}).items()
        for method in item
        if method in HTTP_METHODS
    }


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
