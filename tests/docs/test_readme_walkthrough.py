"""README.md's walkthrough, run as written against a live server.

The blocks fenced as ```` ```sh walkthrough ```` run in order, in one bash process
(`set -euo pipefail`) started at the repository root, as a newcomer pastes them into a terminal.
A run of `# → ` lines shows what the commands since the previous such run (or the block's start)
print, one line each, `…` standing for any text; the run must print exactly that. The environment
overrides the defaults the README itself sets (`BASE=${BASE:-…}`): a fresh Uvicorn on a free
loopback port, on a temporary SQLite database, with a webhooks worker beside it as `make run`
has; a free port for the webhook receiver; a new user; a temporary directory for the clients.

The generated clients: the walkthrough runs the README's own one-at-a-time commands (both
generators, then the Python client against the server). `make clients` itself, `tsc` and the
TypeScript client's calls are contract/test_clients.py's; the TypeScript generator runs from the
npm packages `make clients` installed (contract/clients/typescript/node_modules), never
reinstalled here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.support.servers import (
    REPO,
    ServerProcess,
    app_environment,
    free_port,
    migrate,
    start_uvicorn,
)
from tests.support.services import start_webhooks_worker

README = REPO / "README.md"
NODE_MODULES = REPO / "contract" / "clients" / "typescript" / "node_modules"
FENCE = re.compile(r"^```sh walkthrough\s*$")
OUTPUT = "# → "
DEFAULT = re.compile(r"^(\w+)=\$\{\1:-([^}]*)\}", re.M)
WALKTHROUGH_TIMEOUT = 180


@dataclass(frozen=True)
class Step:
    """Commands of the walkthrough, and what they print when the README shows it."""

    line: int  # README line of the first command
    script: str
    expected: tuple[str, ...]  # () where the README shows no output


def walkthrough_steps(markdown: str) -> list[Step]:
    steps: list[Step] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        if not FENCE.match(lines[index]):
            index += 1
            continue
        index += 1
        commands: list[tuple[int, str]] = []
        while not lines[index].startswith("```"):
            if lines[index].startswith(OUTPUT.rstrip()):
                expected = []
                while lines[index].startswith(OUTPUT.rstrip()):
                    expected.append(lines[index][len(OUTPUT) :])
                    index += 1
                steps.append(_step(commands, tuple(expected)))
                commands = []
                continue
            commands.append((index + 1, lines[index]))
            index += 1
        if any(text.strip() for _, text in commands):
            steps.append(_step(commands, ()))
        index += 1
    return steps


def _step(commands: list[tuple[int, str]], expected: tuple[str, ...]) -> Step:
    assert commands, f"output shown with no command before it: {expected}"
    return Step(commands[0][0], "\n".join(text for _, text in commands), expected)


def bash_script(steps: list[Step], out: Path) -> str:
    """One script of every step; a step whose output the README shows writes it to a file."""
    parts = ["set -euo pipefail"]
    for number, step in enumerate(steps):
        parts.append(f"echo '### README.md line {step.line}' >&2")
        if step.expected:
            parts.append(f"{{\n{step.script}\n}} > '{out}/{number}.out'")
            parts.append(f"cat '{out}/{number}.out'")
        else:
            parts.append(step.script)
    return "\n".join(parts) + "\n"


def readme_defaults(markdown: str) -> dict[str, str]:
    """The variables the walkthrough sets with a default, `NAME=${NAME:-default}`."""
    text = "\n".join(step.script for step in walkthrough_steps(markdown))
    return dict(DEFAULT.findall(text))


def shown_line_matches(shown: str, printed: str, substitutions: dict[str, str]) -> bool:
    for default, actual in substitutions.items():
        shown = re.sub(rf"(?<![0-9A-Za-z]){re.escape(default)}(?![0-9A-Za-z])", actual, shown)
    pattern = ".*".join(re.escape(part) for part in shown.split("…"))
    return re.fullmatch(pattern, printed.rstrip()) is not None


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    mismatches: list[str]

    @property
    def failed_at(self) -> str | None:
        """The README line of the step that was running when bash stopped."""
        marks = re.findall(r"^### (README\.md line \d+)$", self.stderr, re.M)
        return marks[-1] if marks and self.returncode != 0 else None

    def report(self) -> str:
        return (
            f"exit {self.returncode} at {self.failed_at}\n"
            + "\n".join(self.mismatches)
            + f"\n--- stdout\n{self.stdout[-4000:]}\n--- stderr\n{self.stderr[-4000:]}"
        )


def run_walkthrough(
    steps: list[Step], *, environment: dict[str, str], defaults: dict[str, str], workdir: Path
) -> Run:
    out = workdir / f"out-{uuid.uuid4().hex[:8]}"
    out.mkdir()
    script = out / "walkthrough.sh"
    script.write_text(bash_script(steps, out))
    finished = subprocess.run(
        ["bash", str(script)],
        cwd=REPO,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WALKTHROUGH_TIMEOUT,
    )
    substitutions = {defaults[name]: environment[name] for name in defaults if name in environment}
    mismatches = []
    if finished.returncode == 0:
        for number, step in enumerate(steps):
            if not step.expected:
                continue
            printed = (out / f"{number}.out").read_text().rstrip("\n").split("\n")
            if len(printed) != len(step.expected) or not all(
                shown_line_matches(shown, line, substitutions)
                for shown, line in zip(step.expected, printed, strict=True)
            ):
                mismatches.append(
                    f"README.md line {step.line}: shows\n  "
                    + "\n  ".join(step.expected)
                    + "\nprinted\n  "
                    + "\n  ".join(printed)
                )
    return Run(finished.returncode, finished.stdout, finished.stderr, mismatches)


# --- the README, read ------------------------------------------------------------------------


def test_every_capability_has_commands_in_the_walkthrough():
    text = "\n".join(step.script for step in walkthrough_steps(README.read_text()))

    for needle in (
        "/auth/register/",
        "/auth/login/",
        "/auth/refresh/",
        "ACCESS=",
        "REFRESH=",
        '"$BASE/tasks/"',
        "If-Match",
        "/labels/",
        "parent_id",
        "/move/",
        '"time_zone"',
        "/tasks/bulk/",
        "/tasks/trash/",
        "/restore/",
        "/tasks/changes/",
        "sync_token",
        "/webhooks/",
        "/projects/",
        "/invitations/",
        "/accept/",
        "/members/",
        '"project_id',
        "taskapi.webhooks.listen",
        "openapi-python-client",
        "openapi-typescript",
        "PYTHONPATH=",
        "AuthenticatedClient",
    ):
        assert needle in text, f"the walkthrough never runs anything with {needle}"


def walkthrough_requests(markdown: str) -> Iterator[tuple[int, str, str, list[str]]]:
    """(README line, method, path, query names) of every request the walkthrough sends."""
    for step in walkthrough_steps(markdown):
        for offset, line in enumerate(step.script.splitlines()):
            for path, query in re.findall(r'"\$BASE(/[^"?]*)(?:\?([^"]*))?"', line):
                method = re.search(r"-X (\w+)", line)
                names = [pair.split("=")[0] for pair in query.split("&") if pair]
                yield step.line + offset, method[1] if method else "GET", path, names


def test_every_request_of_the_walkthrough_is_an_operation_of_the_contract():
    contract = yaml.safe_load((REPO / "openapi.yaml").read_text())
    # A path's variables, whatever the contract names them ({id}, {invitation_id}): `{}`.
    templates = {re.sub(r"\{\w+\}", "{}", path): path for path in contract["paths"]}
    requests = list(walkthrough_requests(README.read_text()))
    assert len(requests) >= 25, "the walkthrough's requests were not found"

    for line, method, path, names in requests:
        shape = re.sub(r"(?<=/)\$\w+(?=/)", "{}", path)
        assert shape in templates, f"README.md line {line}: no path {shape}"
        template = templates[shape]
        item = contract["paths"][template]
        operation = item.get(method.lower())
        assert operation is not None, f"README.md line {line}: {template} has no {method}"
        parameters = [
            contract["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
            for p in operation.get("parameters", [])
        ]
        documented = {p["name"] for p in parameters if p["in"] == "query"}
        assert set(names) <= documented, f"README.md line {line}: {names} on {method} {template}"


def test_the_walkthrough_defaults_are_where_make_run_serves_and_do_not_collide():
    defaults = readme_defaults(README.read_text())
    makefile = (REPO / "Makefile").read_text()
    host = re.search(r"^HOST\s*\?=\s*(\S+)", makefile, re.M)[1]
    port = re.search(r"^PORT\s*\?=\s*(\S+)", makefile, re.M)[1]

    assert defaults["BASE"] == f"http://{host}:{port}"
    assert defaults["HOOK_PORT"] != port
    assert set(defaults) == {"BASE", "HOOK_PORT", "EMAIL", "CLIENTS"}


# --- the README, run -------------------------------------------------------------------------


@dataclass
class Walkthrough:
    server: ServerProcess
    workdir: Path
    defaults: dict[str, str]

    def environment(self, workdir: Path) -> dict[str, str]:
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "PYTHONPATH"))
        }
        environment.update(
            BASE=self.server.base_url,
            HOOK_PORT=str(free_port()),
            EMAIL=f"ada-{uuid.uuid4().hex[:12]}@example.com",
            CLIENTS=str(workdir / "clients"),
        )
        return environment

    def run(self, steps: list[Step], workdir: Path) -> Run:
        return run_walkthrough(
            steps,
            environment=self.environment(workdir),
            defaults=self.defaults,
            workdir=workdir,
        )


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory) -> Iterator[Walkthrough]:
    for tool in ("bash", "curl", "python3"):
        assert shutil.which(tool), f"the walkthrough needs {tool} on PATH"
    assert (REPO / ".venv" / "bin" / "python").exists(), "the walkthrough runs .venv: make install"
    assert (NODE_MODULES / ".bin" / "openapi-typescript").exists(), (
        "the walkthrough's TypeScript generator is not installed: make clients"
    )
    workdir = tmp_path_factory.mktemp("walkthrough")
    # As `make run` serves: the app on SQLite and one webhooks worker, loopback receivers allowed.
    environment = app_environment(
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        WEBHOOKS_ALLOW_LOOPBACK="true",
        AUTH_RATE_LIMIT="1000/minute",
    )
    migrate(environment)
    server = start_uvicorn(environment, workdir=workdir)
    try:
        worker = start_webhooks_worker(environment, workdir=workdir)
        try:
            yield Walkthrough(server, workdir, readme_defaults(README.read_text()))
        finally:
            worker.stop()
    finally:
        server.stop()


@pytest.mark.server
def test_the_walkthrough_runs_as_written_and_prints_what_it_shows(walkthrough, tmp_path):
    steps = walkthrough_steps(README.read_text())
    started = time.monotonic()

    run = walkthrough.run(steps, tmp_path)

    assert run.returncode == 0, run.report()
    assert run.mismatches == [], run.report()
    assert sum(1 for step in steps if step.expected) >= 20
    # Runs in seconds; a webhook attempt that failed would be retried 30 s later.
    assert time.monotonic() - started < 60, run.report()


@pytest.mark.server
def test_a_broken_command_stops_the_walkthrough_at_its_line(walkthrough, tmp_path):
    markdown = README.read_text().replace('"$BASE/auth/refresh/"', '"$BASE/auth/refreshed/"')
    steps = walkthrough_steps(markdown)
    broken = next(step for step in steps if "/auth/refreshed/" in step.script)

    run = walkthrough.run(steps[: steps.index(broken) + 2], tmp_path)

    assert run.returncode != 0
    assert run.failed_at == f"README.md line {broken.line}", run.report()


@pytest.mark.server
def test_output_other_than_the_readme_shows_fails_the_walkthrough(walkthrough, tmp_path):
    shown = '# → {"status":"ok"}'
    assert shown in README.read_text()
    steps = walkthrough_steps(README.read_text().replace(shown, '# → {"status":"unwell"}'))
    health = next(step for step in steps if step.expected == ('{"status":"unwell"}',))

    run = walkthrough.run(steps[: steps.index(health) + 1], tmp_path)

    assert run.returncode == 0, run.report()
    assert [mismatch.splitlines()[0] for mismatch in run.mismatches] == [
        f"README.md line {health.line}: shows"
    ]
