"""Passwords and their hashes never reach a response body or a log line.

The autouse `no_secret_leaks` guard (secret_guard.py) checks every test of this directory;
these tests drive the paths most likely to leak and check that the guard itself can fail.
"""

import logging

import pytest

from tests.factories import PASSWORD
from tests.support.secret_guard import SecretWatch

pytestmark = pytest.mark.django_db


def test_the_whole_account_lifecycle_leaks_no_password(http, user, no_secret_leaks):
    http.post("/auth/register/", {"email": "leak@example.com", "password": "leaky-passphrase-1"})
    http.post("/auth/register/", {"email": "leak@example.com", "password": "leaky-passphrase-1"})
    http.post("/auth/login/", {"email": "leak@example.com", "password": "not-the-passphrase"})
    access = http.post("/auth/login/", {"email": user.email, "password": PASSWORD}).json()["access"]
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    http.get("/auth/me/")
    http.post("/auth/password/", {"current_password": "wrong-current-1", "new_password": "x"})
    http.post("/auth/password/", {"current_password": PASSWORD, "new_password": "brand-new-pass-9"})

    assert no_secret_leaks.secrets >= {"leaky-passphrase-1", PASSWORD, "brand-new-pass-9"}
    assert len(no_secret_leaks.texts) >= 8  # every response body was seen
    assert no_secret_leaks.leaks() == []


def test_the_guard_reports_a_password_in_a_response_body():
    watch = SecretWatch()
    watch.note_request_body(b'{"password": "hunter2-hunter2"}')
    watch.note_response_body(b'{"echo": "hunter2-hunter2"}')

    assert len(watch.leaks()) == 1


def test_the_guard_reports_a_hash_in_a_log_line():
    watch = SecretWatch()
    logger = logging.getLogger("tests.leaky")
    logger.addHandler(watch)
    logger.propagate = False  # only `watch` may see this, or the real guard fails the test
    try:
        logger.warning("user row: %s", "pbkdf2_sha256$870000$salt$hash")
    finally:
        logger.removeHandler(watch)
        logger.propagate = True

    assert len(watch.leaks()) == 1
