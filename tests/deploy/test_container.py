"""The container image: lint, and the properties the platform relies on."""

import re

from tests.deploy.conftest import DEPLOY, REPO, run, venv_tool

DOCKERFILE = DEPLOY / "docker" / "Dockerfile"


def instructions(name: str) -> list[str]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return [
        line.split(None, 1)[1]
        for line in text.splitlines()
        if line.split(None, 1)[:1] == [name] and len(line.split(None, 1)) == 2
    ]


def test_dockerfile_passes_hadolint():
    result = run(venv_tool("hadolint"), "--no-color", DOCKERFILE)

    assert result.returncode == 0, result.stdout + result.stderr


def test_base_image_is_slim_python_pinned_to_an_exact_version():
    default = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)

    assert default, "the base image is set once, in ARG PYTHON_IMAGE"
    assert re.fullmatch(r"python:3\.(1[1-9])\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", default[1])
    assert all(line.startswith("${PYTHON_IMAGE} AS ") for line in instructions("FROM"))
    assert len(instructions("FROM")) >= 2, "multi-stage: build tools stay out of the runtime"


def test_dependencies_come_from_the_lock_file():
    installs = [line for line in instructions("RUN") if "pip install" in line]

    assert installs
    assert all("-c constraints.txt" in line for line in installs)


def test_runtime_user_is_a_numeric_non_root_uid():
    final_user = instructions("USER")[-1]

    uid = final_user.split(":")[0]
    assert uid.isdigit() and int(uid) >= 10000, final_user


def test_healthcheck_calls_liveness_with_python_not_curl():
    (healthcheck,) = instructions("HEALTHCHECK")

    assert "/health/" in healthcheck
    assert "urllib" in healthcheck
    assert "curl" not in healthcheck


def test_serving_command_runs_uvicorn_and_never_migrates():
    command = instructions("CMD")[-1]

    assert command.startswith('["uvicorn", "taskapi.asgi:application"')
    assert "migrate" not in command
    # Workers come from $WEB_CONCURRENCY (uvicorn's own default), never a fixed number.
    assert "--workers" not in command
    assert "WEB_CONCURRENCY" in DOCKERFILE.read_text()


def test_collectstatic_secret_is_not_baked_into_the_image():
    env_lines = " ".join(instructions("ENV") + instructions("ARG"))

    assert "DJANGO_SECRET_KEY" not in env_lines
    assert any("collectstatic --noinput" in line for line in instructions("RUN"))


def test_dockerignore_is_an_allow_list():
    lines = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    assert lines[0] == "*", "start from nothing, then allow what the image needs"
    allowed = {line[1:] for line in lines if line.startswith("!")}
    assert not allowed & {".env", ".git", ".venv", ".secret_key", "db.sqlite3", "deploy"}
