"""Schemathesis against the real server: every check, every phase, as a freshly registered user.

`make test` runs a fixed seed with at least 100 examples per operation; `make fuzz` (FUZZ_LONG=1)
runs thousands per operation with a random seed, printed so a failure can be replayed with
FUZZ_SEED=<seed>. On failure the Schemathesis output, with a curl command reproducing each failing
request, is the assertion message.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support.servers import REPO, start_sqlite_app

from contract import coverage_plugin

pytestmark = pytest.mark.server

BIN = Path(sys.executable).parent
REPORT_DIR = REPO / "build" / "schemathesis"

LONG = os.environ.get("FUZZ_LONG") == "1"
# `make test`: a fixed seed, so a failure reproduces with the same command.
SEED = int(os.environ.get("FUZZ_SEED") or (secrets.randbelow(2**31) if LONG else 20261124))
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or (3000 if LONG else 100))
# Short in `make test`, so the run outlives several access tokens and the auth provider has to
# refresh them (the stats below prove it did). `make fuzz` keeps the production default.
ACCESS_TOKEN_LIFETIME = os.environ.get("FUZZ_ACCESS_TOKEN_LIFETIME") or ("300" if LONG else "20")

# Operations that take a task id: the isolation check must have run on each of them.
TASK_ID_OPERATIONS = (
    "GET /tasks/{id}/",
    "PUT /tasks/{id}/",
    "PATCH /tasks/{id}/",
    "DELETE /tasks/{id}/",
)


@pytest.fixture
def contract_server(tmp_path):
    server = start_sqlite_app(
        tmp_path,
        # Schemathesis registers and logs in far more often than a person.
        AUTH_RATE_LIMIT="1000000/minute",
        ACCESS_TOKEN_LIFETIME=ACCESS_TOKEN_LIFETIME,
    )
    yield server
    server.stop()
    # Every request in this server's log was made by this test: Schemathesis, or the isolation
    # check's own requests (their request ids start with "isolation-").
    coverage_plugin.claim_server_log(
        server.log_path,
        default_test="schemathesis",
        by_request_id_prefix={"isolation-": "schemathesis isolation check"},
    )


def schemathesis_command(base_url: str) -> list[str]:
    return [
        str(BIN / "schemathesis"),
        "run",
        str(REPO / "openapi.yaml"),
        "--url",
        base_url,
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        # One worker: the run is reproducible from its seed, and the isolation check's
        # create / replay / read-back sequence is not interleaved with A's own requests.
        "--workers",
        "1",
        # Past runs must not steer this one: the seed alone decides what is generated.
        "--generation-database",
        "none",
        "--continue-on-failure",
        "--request-timeout",
        "20",
        "--report",
        "junit,ndjson",
        "--report-dir",
        str(REPORT_DIR),
        "--no-color",
    ]


def test_the_api_conforms_to_its_contract_under_schemathesis(contract_server, tmp_path):
    stats_file = tmp_path / "hook-stats.json"
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "contract.hooks",
        "CONTRACT_BASE_URL": contract_server.base_url,
        "CONTRACT_STATS_FILE": str(stats_file),
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
    }
    command = schemathesis_command(contract_server.base_url)
    print(f"\nschemathesis seed: {SEED} (replay: FUZZ_SEED={SEED} FUZZ_EXAMPLES={MAX_EXAMPLES})")
    print(" ".join(command))
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=3 * 3600
    )
    output = result.stdout + result.stderr
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "output.txt").write_text(output)
    print(output)
    print(f"schemathesis took {time.monotonic() - started:.0f} s")

    assert result.returncode == 0, (
        f"Schemathesis found failures (seed {SEED}); each comes with a curl command that "
        f"reproduces it:\n\n{output}"
    )
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    assert_the_hooks_did_their_work(stats)


def assert_the_hooks_did_their_work(stats: dict[str, int]) -> None:
    """A check that never ran passes silently: prove that each one did."""
    assert stats.get("auth.register.A") == 1, stats
    assert stats.get("auth.register.B") == 1, stats
    assert stats.get("auth.stale_token_401", 0) == 0, stats
    if not LONG:
        # The run outlives several 20 s access tokens: the provider must have refreshed them.
        assert stats.get("auth.refresh.A", 0) >= 2, stats
    for operation in TASK_ID_OPERATIONS:
        probes = stats.get(f"isolation.{operation}.victim", 0)
        assert probes >= MAX_EXAMPLES, f"isolation check ran {probes} times on {operation}"
    assert stats.get("isolation.GET /tasks/.list", 0) >= MAX_EXAMPLES, stats
    # Stateful links (taskCreate -> taskGet/taskUpdate/...) hand A's own new ids to requests.
    generated = sum(stats.get(f"isolation.{op}.generated-id", 0) for op in TASK_ID_OPERATIONS)
    assert generated > 0, f"no request on an id A had created was replayed as B: {stats}"
