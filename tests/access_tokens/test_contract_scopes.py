"""The contract declares what a token may call, operation by operation, and the server reads
the same table (scopes.py): these check the declarations themselves."""

import yaml
from django.conf import settings

from taskapi.access_tokens.models import Scope
from taskapi.access_tokens.scopes import SCHEME, alternatives_of

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
# Operations no token may call: they manage the credentials themselves.
LOGIN_ONLY = {
    "authLogout",
    "authDeleteAccount",
    "authChangePassword",
    "tokenCreate",
    "tokenList",
    "tokenGet",
    "tokenDelete",
}


def _contract() -> dict:
    return yaml.safe_load(settings.CONTRACT_PATH.read_text())


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def test_every_operation_that_needs_a_login_declares_its_security_itself():
    document = _contract()
    undeclared = [
        name
        for name, operation in _operations(document)
        if operation.get("x-permission") != "public" and "security" not in operation
    ]

    assert not undeclared


def test_every_operation_takes_a_login_and_a_token_only_where_one_scope_would_do():
    document = _contract()
    for name, operation in _operations(document):
        if operation.get("x-permission") == "public":
            assert operation["security"] == [], name
            continue
        assert {"bearerAuth": []} in operation["security"], name
        alternatives = alternatives_of(operation, document)
        if operation["operationId"] in LOGIN_ONLY:
            assert alternatives == (), name
        else:
            assert alternatives, f"{name} takes no access token"
            assert all(len(scopes) == 1 for scopes in alternatives), name


def test_the_scopes_operations_name_are_the_schemes_and_the_servers():
    document = _contract()
    listed = set(document["components"]["securitySchemes"][SCHEME]["x-scopes"])
    named = {
        scope
        for _, operation in _operations(document)
        for scopes in alternatives_of(operation, document)
        for scope in scopes
    }
    enum = set(document["components"]["schemas"]["Scope"]["enum"])

    assert named == listed == enum == {scope.value for scope in Scope}


def test_a_write_scope_also_reads_its_resource():
    document = _contract()
    for name, operation in _operations(document):
        alternatives = {
            scope for scopes in alternatives_of(operation, document) for scope in scopes
        }
        for scope in alternatives:
            resource, _, access = scope.partition(":")
            if access == "read" and f"{resource}:write" in {s.value for s in Scope}:
                assert f"{resource}:write" in alternatives, name


def test_a_tokens_name_is_constrained_like_every_other_name():
    # Schemathesis (seed 303735147): a name of "\u0000" passed the contract and was refused
    # with null_characters_not_allowed, as every name, title and label is.
    schemas = _contract()["components"]["schemas"]
    name = schemas["AccessTokenCreate"]["properties"]["name"]

    assert name["pattern"] == schemas["ProjectName"]["pattern"] == schemas["LabelName"]["pattern"]
