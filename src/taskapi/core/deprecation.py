"""Deprecation and Sunset headers, read from the contract so the two cannot drift.

An operation or a parameter marked `deprecated: true` in openapi.yaml carries two dates:

    deprecated: true
    x-deprecated-at: 2027-01-15   # when the release that deprecates it ships
    x-sunset: 2027-07-15          # from then on it may stop working (a new major version)

and optionally `x-deprecation-link`, a page that says what replaces it (default: the contract,
where the element's description says so). Responses of a deprecated operation, and responses to
requests that use a deprecated parameter, carry

    Deprecation: @1800000000                       RFC 9745 (a structured-field date)
    Sunset: Thu, 15 Jul 2027 00:00:00 GMT           RFC 8594
    Link: </openapi.yaml>; rel="deprecation"; type="application/yaml"

The compatibility policy (docs/compatibility.md, the contract's description) promises at least
MINIMUM_NOTICE between the two dates; a contract that breaks that promise, or marks an element
deprecated without its dates, stops the server at start-up, and contract/test_lint.py fails on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date

from taskapi.core.contract import contract_document

MINIMUM_NOTICE = timedelta(days=180)
DEFAULT_LINK = "/openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


class ContractDeprecationError(ValueError):
    """A deprecated element of the contract without valid dates."""


# The Deprecation, Sunset and Link headers of one deprecated element, built once at start-up.
Headers = dict[str, str]


@dataclass(frozen=True)
class DeprecatedParameter:
    location: str  # "query" or "header"
    name: str
    headers: Headers


@dataclass(frozen=True)
class OperationRule:
    method: str
    path: re.Pattern[str]
    templated_segments: int  # a literal path (/tasks/trash/) wins over a template (/tasks/{id}/)
    headers: Headers | None  # the operation's own deprecation
    parameters: tuple[DeprecatedParameter, ...]


def deprecations_in(contract: dict[str, Any]) -> list[OperationRule]:
    """The contract's operations that are deprecated or have deprecated parameters."""
    rules = []
    for path, item in (contract.get("paths") or {}).items():
        shared = item.get("parameters") or []
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            where = f"{method.upper()} {path}"
            headers = _deprecation(operation, where) if operation.get("deprecated") else None
            parameters = tuple(
                _deprecated_parameters(contract, [*shared, *operation.get("parameters", [])], where)
            )
            if headers is None and not parameters:
                continue
            rules.append(
                OperationRule(
                    method=method.upper(),
                    path=_path_pattern(path),
                    templated_segments=path.count("{"),
                    headers=headers,
                    parameters=parameters,
                )
            )
    return rules


def _deprecated_parameters(
    contract: dict[str, Any], parameters: Iterable[dict[str, Any]], where: str
) -> Iterable[DeprecatedParameter]:
    for parameter in parameters:
        parameter = _resolve(contract, parameter)
        if not parameter.get("deprecated"):
            continue
        location, name = parameter["in"], parameter["name"]
        if location not in ("query", "header"):
            # A path parameter cannot be left out, so "deprecated" would mean the operation is.
            raise ContractDeprecationError(
                f"{where}: {location} parameter {name} is deprecated; deprecate the operation"
            )
        yield DeprecatedParameter(
            location, name, _deprecation(parameter, f"{where} {location} parameter {name}")
        )


def _deprecation(element: dict[str, Any], where: str) -> Headers:
    deprecated_at = _instant(element.get("x-deprecated-at"), "x-deprecated-at", where)
    sunset = _instant(element.get("x-sunset"), "x-sunset", where)
    if sunset - deprecated_at < MINIMUM_NOTICE:
        raise ContractDeprecationError(
            f"{where}: x-sunset must be at least {MINIMUM_NOTICE.days} days after "
            f"x-deprecated-at (the compatibility policy's notice)"
        )
    link = element.get("x-deprecation-link", DEFAULT_LINK)
    return {
        "Deprecation": f"@{int(deprecated_at.timestamp())}",
        "Sunset": http_date(sunset.timestamp()),
        "Link": f'<{link}>; rel="deprecation"; type="{_link_type(link)}"',
    }


def _instant(value: object, key: str, where: str) -> datetime:
    # YAML reads an unquoted 2027-07-15 as a date and a timestamp as a datetime.
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise ContractDeprecationError(f"{where}: deprecated without an {key} date")


def _resolve(contract: dict[str, Any], element: dict[str, Any]) -> dict[str, Any]:
    reference = element.get("$ref")
    if reference is None:
        return element
    node: Any = contract
    for part in reference.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    if not isinstance(node, dict):
        raise ContractDeprecationError(f"{reference}: not an object")
    return node


def _path_pattern(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", path)
    return re.compile(
        "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts) + r"\Z"
    )


def _link_type(link: str) -> str:
    return "application/yaml" if link.endswith((".yaml", ".yml")) else "text/html"


@lru_cache(maxsize=4)
def _rules_of(path: Path, modified: float) -> tuple[OperationRule, ...]:
    # Once per process (the parse, 0.2 s for today's contract, is core.contract's, shared), and
    # again only if the file changes.
    return tuple(deprecations_in(contract_document(path)))


def contract_rules(path: Path) -> tuple[OperationRule, ...]:
    """The rules of the contract file, parsed once per process (and again if it changes)."""
    return _rules_of(path, path.stat().st_mtime)


def deprecation_headers(rules: Iterable[OperationRule], request: HttpRequest) -> Headers:
    """The headers for this request: the operation's own deprecation first, then parameters'."""
    matches = [
        rule for rule in rules if rule.method == request.method and rule.path.match(request.path)
    ]
    if not matches:
        return {}
    rule = min(matches, key=lambda match: match.templated_segments)
    if rule.headers is not None:
        return rule.headers
    for parameter in rule.parameters:
        sent = request.GET if parameter.location == "query" else request.headers
        if parameter.name in sent:
            return parameter.headers
    return {}


class DeprecationMiddleware:
    """The contract's Deprecation, Sunset and Link headers; out of the chain if none apply."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.rules = contract_rules(Path(settings.CONTRACT_PATH))
        if not self.rules:
            # Django leaves the middleware out of the chain: no cost per request.
            raise MiddlewareNotUsed

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        for name, value in deprecation_headers(self.rules, request).items():
            if name == "Link" and "Link" in response:
                value = f"{response['Link']}, {value}"
            response[name] = value
        return response
