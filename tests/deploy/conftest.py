"""Shared helpers for the deploy checks: where the validators live, and rendered manifests.

Every validator runs offline. A missing one fails its test with the command that installs it:
skipping would let CI pass without checking anything.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
TERRAFORM = DEPLOY / "terraform"
WORKFLOWS = REPO / ".github" / "workflows"
OVERLAYS = ("staging", "production")

# The validators from the dev extras sit beside the interpreter running the tests.
VENV_BIN = Path(sys.executable).parent
# checkov pins clash with the app's, so it has its own virtualenv.
CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
CHECKOV_INSTALL = "make checkov"


def venv_tool(name: str) -> Path:
    path = VENV_BIN / name
    if not path.exists():
        pytest.fail(
            f"{name} is not installed in {VENV_BIN}: run `make install` (the dev extras pin it).",
            pytrace=False,
        )
    return path


def checkov() -> Path:
    if not CHECKOV.exists():
        pytest.fail(
            f"checkov is not installed at {CHECKOV}: run `{CHECKOV_INSTALL}` (its own virtualenv).",
            pytrace=False,
        )
    return CHECKOV


def kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        pytest.fail(
            "kubectl is not on PATH (it renders the kustomize overlays offline): install the "
            "`kubectl` package, or see https://kubernetes.io/docs/tasks/tools/.",
            pytrace=False,
        )
    return path


def run(*command: str | Path, cwd: Path = REPO, timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_checkov_clean(result: subprocess.CompletedProcess) -> None:
    """No failed check, something was checked, and every skip carries its reason."""
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"checkov gave no JSON report:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    assert isinstance(report, dict), "expected one framework's report"
    failed = report["results"]["failed_checks"]
    assert not failed, [(c["check_id"], c["resource"], c["file_path"]) for c in failed]
    assert result.returncode == 0, result.stderr[-2000:]
    assert report["summary"]["passed"] > 0, "checkov checked nothing"
    skipped = report["results"]["skipped_checks"]
    unexplained = [
        (check["check_id"], check["resource"])
        for check in skipped
        if not check["check_result"].get("suppress_comment", "").strip()
    ]
    assert not unexplained, unexplained


def kustomize(directory: Path) -> str:
    result = run(kubectl(), "kustomize", directory)
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return result.stdout


def documents(rendered: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def release_script() -> str:
    """The deploy workflow's own step that pins the image digest on top of an overlay."""
    workflow = yaml.safe_load((WORKFLOWS / "deploy-environment.yml").read_text())
    steps = workflow["jobs"]["deploy"]["steps"]
    return next(step["run"] for step in steps if step.get("name") == "Render the release")


def render_release(environment: str, workdir: Path) -> str:
    """Render what deliver.yml would deploy, by running its step on a copy of deploy/k8s."""
    shutil.copytree(K8S, workdir / "deploy" / "k8s")
    env = {
        **os.environ,
        "ENVIRONMENT": environment,
        "IMAGE_NAME": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cloud-task-api",
        "IMAGE_DIGEST": "sha256:" + "0" * 64,
        "RUNNER_TEMP": str(workdir),
        "PATH": f"{Path(kubectl()).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", release_script()],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"release render failed:\n{result.stderr}"
    return (workdir / "release.yaml").read_text()


@pytest.fixture(scope="session")
def rendered_overlays() -> dict[str, list[dict]]:
    return {name: documents(kustomize(K8S / "overlays" / name)) for name in OVERLAYS}


def strip_hcl(value):
    """python-hcl2 keeps HCL's quotes and adds bookkeeping keys; drop both."""
    if isinstance(value, dict):
        return {
            strip_hcl(key): strip_hcl(item)
            for key, item in value.items()
            if key not in ("__is_block__", "__comments__")
        }
    if isinstance(value, list):
        return [strip_hcl(item) for item in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def terraform_files() -> list[Path]:
    return sorted(TERRAFORM.rglob("*.tf"))


def load_hcl(path: Path) -> dict:
    try:
        import hcl2
    except ImportError:
        pytest.fail(
            "python-hcl2 is not installed: run `make install` (the dev extras pin it).",
            pytrace=False,
        )
    with path.open() as handle:
        return strip_hcl(hcl2.load(handle))


def terraform_blocks(root: str, kind: str) -> dict[str, dict]:
    """Blocks of one kind in a root module, keyed "type.name" (resources, data) or "name"."""
    blocks: dict[str, dict] = {}
    for path in sorted((TERRAFORM / root).glob("*.tf")):
        for block in load_hcl(path).get(kind, []):
            for first, body in block.items():
                if kind in ("resource", "data"):
                    for name, inner in body.items():
                        blocks[f"{first}.{name}"] = inner
                else:
                    blocks[first] = body
    return blocks
