"""GitHub Actions: actionlint, and the supply-chain and permission rules it does not enforce."""

import re

import pytest
import yaml

from tests.deploy.conftest import OVERLAYS, WORKFLOWS, run, venv_tool

WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(path):
    return yaml.safe_load(path.read_text())


def test_workflows_pass_actionlint():
    assert WORKFLOW_FILES
    # shellcheck, when on PATH, also checks every `run:` script.
    result = run(venv_tool("actionlint"), "-no-color", *WORKFLOW_FILES)

    assert result.returncode == 0, result.stdout + result.stderr


def uses_lines(path):
    return re.findall(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", path.read_text(), re.MULTILINE)


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_by_full_commit_sha_with_its_version(path):
    for action, rest in uses_lines(path):
        if action.startswith("./"):
            continue  # a workflow of this repository, at this commit
        assert PINNED.match(action), f"{path.name}: {action} is not pinned by a 40-hex commit SHA"
        assert re.match(r"\s+# v\d", rest), f"{path.name}: {action} lacks a `# vX.Y.Z` comment"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_job_declares_least_permissions(path):
    workflow = load(path)

    assert workflow["permissions"] == {}, "nothing by default; each job asks for its own"
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {name} declares no permissions"
        assert "write-all" not in str(job["permissions"])
        writes = {scope for scope, level in job["permissions"].items() if level == "write"}
        assert writes <= {"id-token"}, f"{path.name}: job {name} writes {writes}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_aws_access_uses_github_oidc_not_stored_keys(path):
    text = path.read_text()
    workflow = load(path)

    assert "AWS_ACCESS_KEY_ID" not in text
    assert "aws-secret-access-key" not in text
    for name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@"):
                assert "role-to-assume" in step["with"], name
                assert job["permissions"].get("id-token") == "write", name


def test_ci_runs_on_pull_requests_and_main_with_make_test_and_pip_audit():
    workflow = load(WORKFLOWS / "ci.yml")
    text = (WORKFLOWS / "ci.yml").read_text()

    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as True
    assert "pull_request" in triggers
    assert triggers["push"]["branches"] == ["main"]
    assert "sudo make system-packages" in text
    assert "make test" in text
    assert "make compat" in text
    # The nightly long fuzzing runs on both databases, and the long sync convergence run.
    fuzz = workflow["jobs"]["fuzz"]
    assert fuzz["strategy"]["matrix"]["target"] == ["fuzz", "fuzz-postgres", "sync-soak"]
    assert any(step.get("run") == "make ${{ matrix.target }}" for step in fuzz["steps"])
    assert "pip-audit" in text
    assert "terraform fmt -check" in text
    assert "terraform" in text and " validate" in text and "terraform plan" in text


def test_delivery_migrates_before_rollout_and_gates_production():
    deliver = load(WORKFLOWS / "deliver.yml")
    deploy = load(WORKFLOWS / "deploy-environment.yml")
    jobs = deliver["jobs"]
    steps = [step.get("name", step.get("uses", "")) for step in deploy["jobs"]["deploy"]["steps"]]

    triggers = deliver[True] if True in deliver else deliver["on"]
    assert triggers["push"]["branches"] == ["main"]
    assert jobs["staging"]["with"]["environment"] == "staging"
    assert jobs["production"]["with"]["environment"] == "production"
    assert "staging" in jobs["production"]["needs"], "production only after staging succeeded"
    assert deploy["jobs"]["deploy"]["environment"]["name"] == "${{ inputs.environment }}"
    assert steps.index("Migrate") < steps.index("Roll out") < steps.index("Roll back")
    rollback = deploy["jobs"]["deploy"]["steps"][steps.index("Roll back")]
    assert rollback["if"].startswith("failure()")
    assert 'kubectl -n "$NAMESPACE" rollout undo' in rollback["run"]
    smoke = deploy["jobs"]["deploy"]["steps"][
        steps.index("Smoke test (readiness through the load balancer)")
    ]
    assert "/health/ready/" in smoke["run"]


def deploy_step(name: str) -> str:
    steps = load(WORKFLOWS / "deploy-environment.yml")["jobs"]["deploy"]["steps"]
    return next(step["run"] for step in steps if step.get("name") == name)


def applied_before_migrations(docs: list[dict]) -> list[dict]:
    """The objects the Migrate step's `kubectl apply -l '<key> notin (...)'` applies. kubectl's
    `notin` also matches objects without the label."""
    (selector,) = re.findall(r"-l '([^']*)'", deploy_step("Migrate"))
    match = re.fullmatch(r"\s*([\w./-]+)\s+notin\s+\(([^)]*)\)\s*", selector)
    assert match, f"unexpected selector {selector!r}: teach this test to read it"
    key, values = match[1], {value.strip() for value in match[2].split(",")}
    return [doc for doc in docs if doc["metadata"].get("labels", {}).get(key) not in values]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_deployment_runs_the_new_image_before_the_migration_job(rendered_overlays, overlay):
    early = applied_before_migrations(rendered_overlays[overlay])
    kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in early}

    assert ("Job", "taskapi-migrate") in kinds
    assert not [name for kind, name in kinds if kind == "Deployment"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_is_awaited_on_rollout_and_undone_on_failure(rendered_overlays, overlay):
    docs = rendered_overlays[overlay]
    deployments = [doc["metadata"]["name"] for doc in docs if doc["kind"] == "Deployment"]
    rollout, rollback = deploy_step("Roll out"), deploy_step("Roll back")

    assert len(deployments) >= 2, deployments
    for name in deployments:
        assert f"rollout status deployment/{name} --timeout=" in rollout, name
        assert f"rollout undo deployment/{name}" in rollback, name


def test_image_is_scanned_before_it_is_pushed():
    steps = load(WORKFLOWS / "deliver.yml")["jobs"]["build"]["steps"]
    names = [step.get("name", "") for step in steps]

    scan = names.index("Scan the image (Trivy)")
    push = names.index("Push")
    assert scan < push
    assert steps[scan]["with"]["exit-code"] == "1"
    assert steps[names.index("Build")]["with"]["push"] is False
