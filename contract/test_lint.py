"""openapi.yaml is a valid OpenAPI 3.1 document that passes Spectral's and Redocly's rulesets.

The linters' own configuration (.spectral.yaml, redocly.yaml) belongs to the contract: a rule
that fights the design is switched off there, with its reason. Any error or warning that is left
fails here, unless ACCEPTED_WARNINGS lists it with a reason.

The npm tools live in a git-ignored directory that `make tools` fills; when they are missing the
test fails (never skips) and says how to install them.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml
from openapi_spec_validator import validate
from tests.support.servers import REPO

CONTRACT = REPO / "openapi.yaml"
NPM_BIN = REPO / ".tools" / "npm" / "node_modules" / ".bin"
INSTALL = (
    "make tools   # = npm install --prefix .tools/npm --no-audit --no-fund "
    "@stoplight/spectral-cli@6.16.3 @redocly/cli@2.77.0"
)

# (tool, rule, JSON pointer) -> why the warning stays. Empty: every warning is fixed.
ACCEPTED_WARNINGS: dict[tuple[str, str, str], str] = {}


def tool(name: str) -> str:
    path = NPM_BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in {NPM_BIN}. Install it with:\n  {INSTALL}")
    return str(path)


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        # Offline and quiet: no telemetry, no update check.
        "REDOCLY_TELEMETRY": "off",
        "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
        "NO_COLOR": "1",
    }
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def unaccepted(problems: list[tuple[str, str, str, str]]) -> list[str]:
    """Problems as (tool, rule, pointer, message), minus the accepted warnings."""
    return [
        f"{source} {rule} at {pointer}: {message}"
        for source, rule, pointer, message in problems
        if (source, rule, pointer) not in ACCEPTED_WARNINGS
    ]


def test_the_contract_is_a_valid_openapi_31_document():
    spec = yaml.safe_load(CONTRACT.read_text())

    assert spec["openapi"].startswith("3.1.")
    validate(spec)  # raises with the first violation


def test_spectral_oas_ruleset_reports_no_errors_or_warnings():
    assert (REPO / ".spectral.yaml").exists(), ".spectral.yaml (extends spectral:oas) is missing"

    result = run(
        [
            tool("spectral"),
            "lint",
            str(CONTRACT),
            "--ruleset",
            str(REPO / ".spectral.yaml"),
            "--format",
            "json",
            "--quiet",
            "--fail-severity",
            "warn",
        ]
    )

    try:
        results = json.loads(result.stdout or "[]")
    except ValueError:
        pytest.fail(f"spectral did not report JSON (exit {result.returncode}):\n{result.stdout}")
    # Severity 0 is an error and 1 a warning; 2 (info) and 3 (hint) are advice.
    problems = [
        ("spectral", item["code"], "#/" + "/".join(map(str, item["path"])), item["message"])
        for item in results
        if item["severity"] <= 1
    ]
    assert not unaccepted(problems), "\n".join(unaccepted(problems))
    assert result.returncode == 0, result.stdout + result.stderr


def test_redocly_recommended_ruleset_reports_no_errors_or_warnings():
    assert (REPO / "redocly.yaml").exists(), "redocly.yaml (extends recommended) is missing"

    result = run(
        [
            tool("redocly"),
            "lint",
            str(CONTRACT),
            "--config",
            str(REPO / "redocly.yaml"),
            "--format",
            "json",
        ]
    )

    try:
        report = json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"redocly did not report JSON (exit {result.returncode}):\n{result.stderr}")
    problems = [
        (
            "redocly",
            problem["ruleId"],
            problem["location"][0]["pointer"] if problem.get("location") else "",
            problem["message"],
        )
        for problem in report["problems"]
        if problem["severity"] in ("error", "warn")
    ]
    assert not unaccepted(problems), "\n".join(unaccepted(problems))
