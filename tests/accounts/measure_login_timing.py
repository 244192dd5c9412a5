"""Median login time, unknown email vs wrong password vs right password, with the real hasher.

    .venv/bin/python tests/accounts/measure_login_timing.py [N]   # settings: taskapi.settings.test

Runs on a throw-away SQLite database; not part of the test suite (it takes seconds).
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taskapi.settings.test")
os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/timing.sqlite3"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402


def median_ms(client: APIClient, email: str, password: str, n: int, expect: int) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.post(
            "/auth/login/", {"email": email, "password": password}, format="json"
        )
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == expect, response.status_code
    return statistics.median(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    call_command("migrate", verbosity=0)
    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"],
        AUTH_RATE_LIMIT="1000000/minute",
        ALLOWED_HOSTS=["testserver"],
    ):
        from taskapi.accounts.models import User

        User.objects.create_user("known@example.com", "the-right-passphrase")
        client = APIClient()
        median_ms(client, "known@example.com", "warm-up-wrong", 3, 401)  # imports, caches
        rows = []
        for _ in range(3):  # interleave rounds so drift hits every case alike
            rows.append(
                (
                    median_ms(client, "nobody@example.com", "some-guess-123", n, 401),
                    median_ms(client, "known@example.com", "some-guess-123", n, 401),
                    median_ms(client, "known@example.com", "the-right-passphrase", n, 200),
                )
            )
        unknown, wrong, right = (statistics.median(column) for column in zip(*rows, strict=True))
        hasher = settings.PASSWORD_HASHERS[0].rsplit(".", 1)[-1]
        print(f"hasher {hasher}, {3 * n} logins per case, median of per-round medians:")
        print(f"  unknown email   401: {unknown:7.1f} ms")
        print(f"  wrong password  401: {wrong:7.1f} ms")
        print(f"  right password  200: {right:7.1f} ms")


if __name__ == "__main__":
    main()
