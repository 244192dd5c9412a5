"""Schemathesis against the real server: every check, every phase, as a freshly registered user.

On SQLite (`make test`) against one Uvicorn; with `-p tests.support.pg_plugin --db=postgres`
(`make test-postgres`) against the production shape: two instances on PostgreSQL and Redis
behind nginx.

The seed changes with every commit (derived from the commit hash), so each commit fuzzes new
cases while a failing run stays reproducible: the seed is printed, and FUZZ_SEED=<seed> replays
it. `make test` gives each operation an example budget (EXAMPLES, fewer for the operations in
SLOW_OPERATIONS); `make fuzz` (FUZZ_LONG=1) thousands per operation, with a random seed. On
failure the Schemathesis output, with a curl command reproducing each failing request, is the
assertion message. Every failure found becomes an explicit regression test
(tests/core/test_fuzz_regressions.py).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from tests.support.contract_operations import contract_operations
from tests.support.servers import REPO, ServerProcess, app_environment, start_sqlite_app
from tests.support.services import Stack, postgres_mode, start_stack, start_webhooks_worker

from contract import coverage_plugin

BIN = Path(sys.executable).parent
REPORTS = REPO / "build" / "schemathesis"

LONG = os.environ.get("FUZZ_LONG") == "1"
# Outside a git checkout (an unpacked source archive) there is no commit to derive a seed from.
FALLBACK_SEED = 20261124


def commit_seed() -> int:
    """A seed from the checked-out commit: new cases with every commit, the same on a rerun."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return FALLBACK_SEED
    return int(commit[:8], 16) % 2**31


SEED = int(os.environ.get("FUZZ_SEED") or (secrets.randbelow(2**31) if LONG else commit_seed()))
# `make test`'s example budget per operation (the fuzzing and stateful phases; the examples and
# coverage phases run every case the contract defines, whatever the budget). Enough to reach each
# operation's documented statuses and run every check on each; the long hunt is `make fuzz`.
EXAMPLES = 25
# Operations whose every request costs a production password hash (PBKDF2, hundreds of ms) or
# the whole contract document: at EXAMPLES they took half the fuzzing phase. `make fuzz` gives
# them as many as the others.
SLOW_OPERATIONS = {
    "authLogin": 8,
    "authDeleteAccount": 8,
    "authChangePassword": 8,
    "getContract": 8,
}
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or (3000 if LONG else EXAMPLES))
# Short in `make test`, so the run outlives several access tokens and the auth provider has to
# refresh them (the stats below prove it did). `make fuzz` keeps the production default.
ACCESS_TOKEN_LIFETIME = os.environ.get("FUZZ_ACCESS_TOKEN_LIFETIME") or ("300" if LONG else "60")

# Beyond the suite's 300 s default: the run itself is bounded by --max-examples.
RUN_TIMEOUT = 4 * 3600 if LONG else 1440
pytestmark = [pytest.mark.server, pytest.mark.timeout(RUN_TIMEOUT + 60)]

# The subjects the matrix check replays requests as (contract/fuzzing/isolation/matrix.py), the
# accounts behind them, and which of them are members of the projects A shares.
SUBJECTS = (
    "editor",
    "viewer",
    "non-member",
    "removed",
    "invited",
    "anonymous",
    "editor's token",
    "viewer's read token",
    "non-member's token",
    "token without the scope",
)
OTHER_USERS = ("E", "V", "B", "R", "I", "T")
# Operations on another user's own things, tried on a victim made for each replay.
VICTIM_PREFIXES = ("/labels/{id}/", "/webhooks/{id}/", "/invitations/{invitation_id}/")


def permissions() -> dict[str, str]:
    """Each operation's x-permission, by "METHOD /path"."""
    spec = yaml.safe_load((REPO / "openapi.yaml").read_text())
    return {
        f"{method.upper()} {path}": definition["x-permission"]
        for path, item in spec["paths"].items()
        for method, definition in item.items()
        if isinstance(definition, dict) and "x-permission" in definition
    }


@pytest.fixture
def contract_server(tmp_path):
    settings = {
        # Schemathesis registers and logs in far more often than a person.
        "AUTH_RATE_LIMIT": "1000000/minute",
        "ACCESS_TOKEN_LIFETIME": ACCESS_TOKEN_LIFETIME,
        # Webhooks to loopback receivers (the isolation check's own); production refuses them.
        "WEBHOOKS_ALLOW_LOOPBACK": "true",
        # The server and the worker beside it share their secrets, as a deployment's
        # environment gives both: the worker opens the signing secrets the server sealed.
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    }
    server: ServerProcess | Stack
    workers = []
    if postgres_mode():
        from tests.support import pg_plugin

        # Its own database: the suite's live app shares the cluster. No TCP proxies: no outage
        # is injected here, and they would only add latency.
        server = start_stack(
            tmp_path,
            pg=pg_plugin.cluster(),
            database="taskapi_fuzz",
            tls=False,
            proxied=False,
            webhooks_workers=1,
            **settings,
        )
        logs = [app.log_path for app in server.apps]
    else:
        server = start_sqlite_app(tmp_path, **settings)
        logs = [server.log_path]
        # A worker delivers what the run's writes queue (the delivery isolation check).
        database = app_environment(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", **settings)
        workers.append(start_webhooks_worker(database, workdir=tmp_path))
    yield server
    for worker in workers:
        worker.stop()
    server.stop()
    # Every request in these logs was made by this test: Schemathesis, or the isolation check's
    # own requests (their request ids start with "isolation-").
    for log in logs:
        coverage_plugin.claim_server_log(
            log,
            default_test="schemathesis",
            by_request_id_prefix={"isolation-": "schemathesis isolation check"},
        )


def schemathesis_config(directory: Path) -> Path:
    """schemathesis.toml, plus in `make test` the smaller budget of SLOW_OPERATIONS (an
    operation's own max-examples wins over the command line's)."""
    text = (REPO / "schemathesis.toml").read_text()
    if not LONG:
        text += "\n# make test's budget of the slow operations (contract/test_schemathesis.py)\n"
        for operation_id, examples in SLOW_OPERATIONS.items():
            budget = min(examples, MAX_EXAMPLES)
            text += (
                f'[[operations]]\ninclude-operation-id = "{operation_id}"\n'
                f"generation.max-examples = {budget}\n"
            )
    path = directory / "schemathesis.toml"
    path.write_text(text)
    return path


def schemathesis_command(base_url: str, report_dir: Path) -> list[str]:
    return [
        str(BIN / "schemathesis"),
        "--config-file",
        str(schemathesis_config(report_dir)),
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
        "--continue-on-failure",
        "--request-timeout",
        "20",
        "--report",
        "junit,ndjson",
        "--report-junit-path",
        str(report_dir / "junit.xml"),
        "--report-ndjson-path",
        str(report_dir / "events.ndjson"),
        "--no-color",
    ]


def test_the_api_conforms_to_its_contract_under_schemathesis(
    contract_server, tmp_path, capsys, record_property
):
    # One directory per run: several runs (tox, make test, a developer) may overlap.
    report_dir = REPORTS / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    report_dir.mkdir(parents=True)
    stats_file = tmp_path / "hook-stats.json"
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "contract.hooks",
        "CONTRACT_BASE_URL": contract_server.base_url,
        "CONTRACT_STATS_FILE": str(stats_file),
        # User B gets a webhook to a receiver of the hooks' own (contract/hooks.py, "Webhook
        # deliveries"): a worker runs beside the server.
        "CONTRACT_WEBHOOK_RECEIVER": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
    }
    command = schemathesis_command(contract_server.base_url, report_dir)
    database = "PostgreSQL, 2 instances behind nginx" if postgres_mode() else "SQLite"
    print(
        f"\nschemathesis on {database}, seed {SEED} "
        f"(replay: FUZZ_SEED={SEED} FUZZ_EXAMPLES={MAX_EXAMPLES})"
    )
    print(" ".join(command))
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    (report_dir / "output.txt").write_text(output)
    cases = count_cases(report_dir / "events.ndjson")
    print(output)
    summary = (
        f"schemathesis took {elapsed:.0f} s on {database} (seed {SEED}, replay: FUZZ_SEED={SEED})"
    )
    (report_dir / "summary.txt").write_text(f"{summary}\n{cases_table(cases)}\n")
    # Shown in every run, passing ones too: which seed a commit fuzzed, and how much.
    with capsys.disabled():
        print(f"\n{summary}\n{cases_table(cases)}\nreports: {report_dir}")
    # The line in the run's summary, also from an xdist worker, whose output is not shown.
    record_property("figure", f"{summary}; reports: {report_dir}")

    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    (report_dir / "hook-stats.json").write_text(json.dumps(stats, indent=1, sort_keys=True))
    problems = hook_problems(stats, cases)
    if result.returncode != 0:
        problems.insert(
            0,
            f"Schemathesis found failures (exit {result.returncode}, seed {SEED}); each comes "
            f"with a curl command that reproduces it:\n\n{output}",
        )
    assert not problems, "\n\n".join(problems)


def count_cases(events: Path) -> dict[str, dict[str, int]]:
    """Generated cases per operation and phase, from Schemathesis' NDJSON events."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if events.exists():
        with events.open() as handle:
            for line in handle:
                if '"ScenarioFinished"' not in line[:40]:
                    continue
                event = json.loads(line)["ScenarioFinished"]
                recorder = event.get("recorder") or {}
                for case in recorder.get("cases", {}).values():
                    # Outside the stateful phase a case with a parent is a check's own follow-up
                    # request (ignored_auth resends the case without and with a bad token): no
                    # check runs on it, and it was not generated.
                    if event["phase"] != "stateful" and case.get("parent_id"):
                        continue
                    # A stateful scenario's recorder is labelled "Stateful tests": count each of
                    # its steps under the operation it called instead.
                    value = case.get("value", {})
                    label = f"{value.get('method', '?')} {value.get('path', '?')}"
                    counts[label][event["phase"]] += 1
    return counts


UNDOCUMENTED = "methods a path does not serve"


def cases_table(counts: dict[str, dict[str, int]]) -> str:
    # The coverage phase tries every method a path does not serve (one 405 case each): one row.
    documented = {f"{op.method} {op.path}" for op in contract_operations()}
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for label, phases_of in counts.items():
        for phase, count in phases_of.items():
            rows[label if label in documented else UNDOCUMENTED][phase] += count
    phases = ["examples", "coverage", "fuzzing", "stateful"]
    width = max([len(label) for label in rows] + [9])
    lines = ["Generated cases per operation (the checks' own requests not counted):"]
    lines.append("operation".ljust(width) + "".join(f"{phase:>10}" for phase in phases))
    for label in sorted(rows, key=lambda label: (label == UNDOCUMENTED, label)):
        row = "".join(f"{rows[label].get(phase, 0):>10}" for phase in phases)
        lines.append(label.ljust(width) + row)
    return "\n".join(lines)


def hook_problems(stats: dict[str, int], cases: dict[str, dict[str, int]]) -> list[str]:
    """A check that never ran passes silently: prove that each one did."""
    problems = []

    def expect(condition: bool, message: str) -> None:
        if not condition:
            problems.append(f"{message}\nhook stats: {json.dumps(stats, sort_keys=True)}")

    expect(stats.get("auth.register.A") == 1, "user A was not registered exactly once")
    expect(stats.get("auth.register.B") == 1, "user B was not registered exactly once")
    expect(stats.get("auth.stale_token_401", 0) == 0, "requests went out with a dead token")
    if not LONG:
        # The run outlives several 60 s access tokens: the provider must have refreshed them.
        expect(stats.get("auth.refresh.A", 0) >= 2, "user A's access token was never refreshed")
    for label in OTHER_USERS:
        expect(stats.get(f"auth.register.{label}") == 1, f"user {label} was not registered once")
    expect(stats.get("sharing.shared", 0) >= 1, "the shared project was never set up")
    # The matrix check runs on every response: at least once per generated single request
    # (shrinking and stateful steps add more), and in turn as every subject.
    for operation, permission in permissions().items():
        if permission == "public":
            continue
        generated = sum(cases[operation].get(p, 0) for p in ("examples", "coverage", "fuzzing"))
        checked = stats.get(f"matrix.{operation}.checked", 0)
        expect(
            generated > 0 and checked >= generated,
            f"the matrix check ran {checked} times on {operation}, which got {generated} cases",
        )
        if permission != "authenticated" or operation.split()[1].startswith(VICTIM_PREFIXES):
            missed = [s for s in SUBJECTS if not stats.get(f"matrix.{operation}.{s}")]
            expect(not missed, f"{operation} was never replayed as {missed}")
        if permission == "task:write":
            stances = ("holder", "lacking", "outsider")
            missed = [s for s in stances if not stats.get(f"matrix.{operation}.{s}")]
            expect(not missed, f"{operation} was never judged for a {missed}")
    # Lists of tasks and of one's own things, replayed: only what the subject may see.
    for operation in ("GET /tasks/", "GET /tasks/trash/", "GET /tasks/changes/", "GET /labels/",
                      "GET /webhooks/", "GET /projects/", "GET /invitations/"):  # fmt: skip
        expect(stats.get(f"matrix.{operation}.list", 0) > 0, f"no list was replayed: {operation}")
    expect(
        stats.get("matrix.POST /tasks/bulk/.results", 0) > 0,
        "no replayed bulk write was a readable batch with results",
    )
    # The stateful link taskChanges -> taskChanges hands A's own sync token to a request.
    expect(stats.get("matrix.token-of-a", 0) > 0, "no sync token issued to A was replayed")
    # Personal access tokens: each token subject's user made theirs, and scopes were refused.
    for label in ("E", "V", "B", "T"):
        expect(stats.get(f"auth.personal_token.{label}", 0) > 0, f"user {label} made no token")
    for operation, permission in permissions().items():
        if permission != "public":
            refused = stats.get(f"matrix.{operation}.scope-refused", 0)
            expect(refused > 0, f"no token without the scope was refused on {operation}")
    for key in (
        "POST /tasks/.body-parent_id",
        "POST /tasks/{id}/move/.body-parent_id",
        "POST /tasks/{id}/move/.body-after_id",
        "POST /tasks/.labels",
    ):
        expect(stats.get(f"matrix.{key}", 0) > 0, f"no replay named real ids in its body: {key}")
    # A's own generated requests reach the shared projects.
    for key in (
        "fixture.labels",
        "fixture.steered-task",
        "fixture.steered-clone",
        "fixture.steered-invitation",
        "fixture.steered-membership",
    ):
        expect(stats.get(key, 0) > 0, f"no generated request was given real ids: {key}")
    # The viewer's receiver got the shared project's events, and each fixture's creation; the
    # non-members' got nothing.
    expect(stats.get("webhooks.checked") == 1, "the webhook deliveries were not checked")
    for label in ("V",):
        expect(stats.get(f"webhooks.{label}.received", 0) > 0, f"{label}'s webhook got nothing")
        expect(stats.get(f"webhooks.{label}.missing", 1) == 0, f"tasks unannounced to {label}")
    for label in ("V", "B", "R", "I"):
        foreign = stats.get(f"webhooks.{label}.foreign", 1)
        expect(foreign == 0, f"{label}'s webhook got {foreign} events of tasks it may not see")
    return problems
