"""The clients generated from openapi.yaml work against the real server.

openapi-python-client and openapi-typescript generate from the contract with no warning (any
warning fails, contract/clients/generate.py), then one consumer scenario runs through each client
against a real Uvicorn on a fresh SQLite database: register, log in, refresh (rotation and reuse),
idempotent create and its replay, every page of a filtered list, 304, 412, 200, 204, 404; then a
shared project: the owner invites an editor and a viewer, who accept, the editor writes a task
there, and the viewer's write is the typed 403 naming `task:write`; and a personal access token
with `tasks:read`, made with the login: it lists the user's tasks, its write is the typed 403
whose `scope` is `tasks:write`, and once the login deletes it, it is a 401. A response that does
not parse into the type the contract gives it fails the scenario.

The npm tools live in contract/clients/typescript/node_modules, which `make clients` fills from its
package-lock.json; when they are missing the tests fail (never skip) and say how to install them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tests.support.servers import ServerProcess, start_sqlite_app

from contract import coverage_plugin
from contract.clients.generate import (
    CONTRACT,
    PYTHON_PACKAGE,
    TYPESCRIPT,
    GenerationError,
    generate_python_client,
    generate_typescript_types,
    node_tool,
)

PYTHON_SCENARIO = Path(__file__).resolve().parent / "clients" / "python_scenario.py"
# What contract/clients/typescript holds besides node_modules: the scenario and how to build it.
TYPESCRIPT_SOURCES = ("package.json", "tsconfig.json", "scenario.ts")


def _generated(generate, *args: Path, **kwargs: Path) -> Path:
    try:
        return generate(*args, **kwargs)
    except GenerationError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def python_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated Python client project: put it on PYTHONPATH to import it."""
    return _generated(generate_python_client, tmp_path_factory.mktemp("python-client") / "client")


def _typescript_project(directory: Path, contract: Path) -> subprocess.CompletedProcess[str]:
    """scenario.ts next to the api.ts generated from `contract`, compiled by `tsc --strict`."""
    for name in TYPESCRIPT_SOURCES:
        shutil.copy(TYPESCRIPT / name, directory / name)
    # node and tsc resolve packages from the scenario's own folder upwards.
    (directory / "node_modules").symlink_to(TYPESCRIPT / "node_modules", target_is_directory=True)
    _generated(generate_typescript_types, directory / "api.ts", contract=contract)
    return subprocess.run(
        [str(node_tool("tsc")), "--project", str(directory), "--strict"],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="session")
def typescript_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compiled scenario, ready for node."""
    directory = tmp_path_factory.mktemp("typescript-client")
    compiled = _typescript_project(directory, CONTRACT)
    assert compiled.returncode == 0, f"tsc --strict:\n{compiled.stdout}{compiled.stderr}"
    return directory / "dist" / "scenario.js"


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest):
    server = start_sqlite_app(tmp_path, AUTH_RATE_LIMIT="1000000/minute")
    yield server
    server.stop()
    # The scenario's requests come from a subprocess (no test request id): the whole log is this
    # test's, so the contract-coverage table counts them.
    coverage_plugin.claim_server_log(server.log_path, default_test=request.node.nodeid)


def _python_scenario(client: Path, server: ServerProcess) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PYTHON_SCENARIO), server.base_url],
        env={**os.environ, "PYTHONPATH": str(client)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.server
def test_the_generated_python_client_runs_the_consumer_scenario(python_client, server):
    assert (python_client / PYTHON_PACKAGE / "py.typed").exists()

    result = _python_scenario(python_client, server)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "every step parsed into its generated model" in result.stdout


@pytest.mark.server
def test_the_generated_typescript_client_runs_the_consumer_scenario(typescript_scenario, server):
    node = shutil.which("node")
    assert node, "node is not on PATH (Node 20, as for `make tools`)"

    result = subprocess.run(
        [node, str(typescript_scenario)],
        env={**os.environ, "BASE_URL": server.base_url},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "every step matched its contract type" in result.stdout


# --- the checks above can fail ------------------------------------------------------------------


def _altered_contract(directory: Path, alter) -> Path:
    document = yaml.safe_load(CONTRACT.read_text())
    alter(document["components"]["schemas"])
    path = directory / "openapi.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_a_response_the_python_generator_would_leave_out_fails_generation(tmp_path):
    def status_as_const(schemas: dict) -> None:
        # The shape that made openapi-python-client drop 66 responses: a `const` over an integer.
        schemas["PreconditionFailedProblem"]["allOf"][1]["properties"]["status"] = {"const": 412}

    contract = _altered_contract(tmp_path, status_as_const)

    with pytest.raises(GenerationError, match="response will be omitted"):
        generate_python_client(tmp_path / "client", contract=contract)


@pytest.mark.server
def test_the_python_scenario_fails_when_a_response_does_not_parse_into_its_model(tmp_path, server):
    def other_problem_type(schemas: dict) -> None:
        schemas["PreconditionFailedProblem"]["allOf"][1]["properties"]["type"]["enum"] = ["/x"]

    contract = _altered_contract(tmp_path, other_problem_type)
    client = generate_python_client(tmp_path / "client", contract=contract)

    result = _python_scenario(client, server)

    assert result.returncode != 0
    assert "Unexpected value '/problems/precondition-failed'" in result.stderr, result.stderr


def test_the_typescript_scenario_does_not_compile_against_a_different_task(tmp_path):
    def task_with_an_estimate(schemas: dict) -> None:
        task = schemas["Task"]
        task["properties"]["estimate_minutes"] = {"type": "integer"}
        task["required"].append("estimate_minutes")

    contract = _altered_contract(tmp_path, task_with_an_estimate)

    compiled = _typescript_project(tmp_path, contract)

    assert compiled.returncode != 0
    assert "scenario.ts" in compiled.stdout and "lists fewer keys" in compiled.stdout, (
        compiled.stdout
    )


def test_the_typescript_scenario_does_not_compile_when_the_403_names_no_scope(tmp_path):
    def permission_denied_without_scope(schemas: dict) -> None:
        del schemas["PermissionDeniedProblem"]["allOf"][1]["properties"]["scope"]

    contract = _altered_contract(tmp_path, permission_denied_without_scope)

    compiled = _typescript_project(tmp_path, contract)

    assert compiled.returncode != 0
    assert "scenario.ts" in compiled.stdout, compiled.stdout
    assert "Type 'unknown' is not assignable to type 'string | undefined'" in compiled.stdout, (
        compiled.stdout
    )
