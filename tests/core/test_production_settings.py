"""Production refuses unsafe configuration, and Django's deploy checks pass on it."""

import os
import subprocess
import sys

import pytest
from uvicorn.config import STARTUP_FAILURE

from tests.support.servers import REPO

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "taskapi.settings.base",
    "DJANGO_SECRET_KEY": "k" * 20 + "production-like-key-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "api.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


def run_django(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_"))}
    clean.update(PYTHONPATH=f"{REPO / 'src'}", **env)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=clean,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**clean, "PYTHONPATH": str(REPO / "src"), **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_app_refuses_to_start_without_a_secret_key():
    env = {**PRODUCTION}
    del env["DJANGO_SECRET_KEY"]

    result = run_manage("check", **env)

    assert result.returncode == STARTUP_FAILURE
    assert result.stderr.startswith("DJANGO_SECRET_KEY is not set: ")
    assert len(result.stderr.splitlines()) == 1, result.stderr


@pytest.mark.parametrize(
    "key",
    [
        "django-insecure-" + "x1y2z3" * 10,  # Django's generated development key
        "short-but-random-Q8w",  # under 50 characters
        "ab" * 40,  # long but only two distinct characters
    ],
)
def test_the_app_refuses_to_start_with_an_insecure_secret_key(key):
    result = run_manage("check", **{**PRODUCTION, "DJANGO_SECRET_KEY": key})

    assert result.returncode == STARTUP_FAILURE
    assert result.stderr.startswith("DJANGO_SECRET_KEY is insecure: ")
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert key not in result.stderr


def test_debug_is_off_unless_asked_for():
    result = run_django("from django.conf import settings; print(settings.DEBUG)", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_djangos_deploy_checks_pass_on_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout
